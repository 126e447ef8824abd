"""Text for people: the run's summary and what ``inspect`` found."""

from __future__ import annotations

from importer.cli._common import echo
from importer.preflight import Inspection, describe
from importer.read.presets import PRESETS
from importer.report import RunSummary

TOP = 10


def _hours_table(title: str, hours: dict[str, float]) -> list[str]:
    lines = [f"{title}:"]
    for name, value in list(hours.items())[:TOP]:
        lines.append(f"  {name or '(none)':<30} {value:>9.2f} h")
    if len(hours) > TOP:
        rest = sum(list(hours.values())[TOP:])
        lines.append(f"  {f'… {len(hours) - TOP} more':<30} {rest:>9.2f} h")
    return lines


def _ending(summary: RunSummary, heading: str) -> list[str]:
    """How every summary ends: the first rows to look at, why it stopped, where the files are."""
    lines = []
    if summary.problems:
        lines.append(heading)
        lines += [f"  {p['file']}:{p['row']} {p['status']}: {p['error']}" for p in summary.problems]
    if summary.stopped:
        lines.append(f"stopped: {summary.stopped}")
    lines.append(f"report: {summary.report_path}  summary: {summary.summary_path}")
    return lines


def _batch_notes(summary: RunSummary) -> list[str]:
    """What the run did (or left) to the batch's earlier bookings: edits, corrections held
    back or booked beside, bookings whose rows are gone."""
    c = summary.counts
    lines: list[str] = []
    edits = {k: c.get(k, 0) for k in ("updated", "deleted", "conflict", "gone")}
    if (summary.sync is not None and not summary.dry_run) or any(edits.values()):
        lines.append("  ".join(f"{k}: {v}" for k, v in edits.items()))
    if summary.corrections_booked:
        lines.append(
            f"{summary.corrections_booked} rows were booked beside an earlier booking of the "
            "same row, which is still in Tracker (see the report's warning column); "
            "run with --sync to replace them"
        )
    if c.get("needs_sync"):
        lines.append(
            f"{c['needs_sync']} rows correct earlier bookings of batch {summary.batch!r}"
            + (": a run" if summary.dry_run else " and were not booked")
            + " without --sync would leave both worklogs in Tracker; run with --sync to replace "
            "them (see the plan with --sync --dry-run), or --book-beside to keep both"
        )
    if summary.removed_from_files:
        lines.append(
            f"{summary.removed_from_files} earlier bookings of batch {summary.batch!r} have no "
            "row in these files; a run without --sync leaves them in Tracker "
            "(see them with --sync --dry-run)"
        )
    return lines + _rebook_lines(summary)


def _rebook_lines(summary: RunSummary) -> list[str]:
    """What ``--recheck`` found and what ``--rebook`` took back."""
    lines: list[str] = []
    if summary.recheck:
        r = summary.recheck
        again = "would be booked again" if summary.dry_run else "booked again"
        lines.append(
            f"recheck: {r['looked_for']} worklogs of the batch looked for in {r['issues']} "
            f"issues; {r['gone']} no longer in Tracker, {again}"
            + (
                f"; not read (left as the journal says): {', '.join(r['unread_issues'])}"
                if r["unread_issues"]
                else ""
            )
        )
    if summary.rebook:
        r = summary.rebook
        # The hours on each side: a group or row the new way cannot book (a held group)
        # shows as hours the batch loses, its rows in "rows to fix".
        now_hours = sum(summary.hours_by_author.values())
        if summary.dry_run:
            lines.append(
                f"rebook: the batch was booked {r['was']}; its {r['earlier_worklogs']} "
                f"worklogs ({r['earlier_hours']:g} h) would be taken back first, then the "
                f"files booked {r['now']} ({now_hours:g} h)"
            )
        elif r["stopped"]:
            lines.append(
                f"rebook stopped: {r['taken_back']} of the batch's {r['earlier_worklogs']} "
                f"earlier worklogs taken back, nothing booked anew; run again with --rebook"
            )
        elif r["left"]:
            lines.append(
                f"rebook: {r['left']} of the batch's {r['earlier_worklogs']} earlier worklogs "
                f"were not taken back (see the report), so nothing was booked anew; settle "
                f"them and run again with --rebook"
            )
        else:
            lines.append(
                f"rebook: {r['taken_back']} worklogs booked {r['was']} taken back "
                f"({r['earlier_hours']:g} h); the files booked {r['now']} ({now_hours:g} h)"
            )
    return lines


MARKED_SHOWN = 8  # marked days listed per person; the summary JSON holds them all


def _days(dates: list[str]) -> str:
    shown = ", ".join(d[5:] for d in dates[:MARKED_SHOWN])
    return shown + (f" … ({len(dates)} days)" if len(dates) > MARKED_SHOWN else "")


def month_lines(summary: RunSummary) -> list[str]:
    """What the month as a whole and Tracker's lookups found: the marked days per person,
    rows that overlap or lie outside the month, issues and authors Tracker would refuse."""
    lines: list[str] = []
    checks = summary.tracker_checks
    if checks is None and summary.dry_run and not summary.requests:
        lines.append(
            "issues (and import-mode authors) not looked up in Tracker: no token; a real run "
            "looks them up before its first POST"
        )
    if checks:
        for key, why in sorted(checks["unknown_issues"].items()):
            lines.append(f"Tracker would refuse {key}: {why}")
        for login, why in sorted(checks["unknown_authors"].items()):
            lines.append(f"Tracker would refuse author {login}: {why}")
    month = summary.month
    if not month:
        return lines
    period = month["period"]
    found = month["found"]
    if period["from"]:
        named = "the batch's month" if period["named_by_batch"] else "the month most rows fall in"
        lines.append(
            f"month {period['from']} … {period['to']} ({named}): {len(month['working_days'])} "
            f"working days, {len(month['people'])} people"
            + "".join(
                f", {what}: {found[key]}"
                for key, what in (
                    ("overlaps", "overlapping rows"),
                    ("over_day", f"rows on days past {month['limit_hours']:g} h"),
                    ("outside_month", "rows outside the month"),
                )
                if found.get(key)
            )
        )
    for person, dates in month["marks"]["over"].items():
        lines.append(
            f"  {person or '(the token owner)'}: past {month['limit_hours']:g} h on {_days(dates)}"
        )
    for person, dates in month["marks"]["empty"].items():
        lines.append(f"  {person or '(the token owner)'}: no hours on {_days(dates)}")
    return lines


def _count_lines(summary: RunSummary) -> list[str]:
    """The counts: what a dry run would do, or what the run did, with its requests."""
    c = summary.counts
    if summary.dry_run:
        # A rebook's planned deletions are lines of the report, not rows of the files.
        taken = summary.rebook["earlier_worklogs"] if summary.rebook else 0
        return [
            "dry run: nothing was sent, no state was changed",
            f"rows: {sum(c.values()) - taken}"
            + ("" if summary.sync is not None else f"  to create: {c['pending'] - taken}")
            + f"  already imported: {c['already_imported']}  invalid: {c['invalid']}"
            f"  skipped: {c['skipped']}"
            + (f"  needs sync: {c['needs_sync']}" if c.get("needs_sync") else ""),
        ]
    return [
        f"rows: {sum(c.values())}  created: {c['created']}"
        f"  already imported: {c['already_imported']}"
        f"  invalid: {c['invalid']}  skipped: {c['skipped']}  failed: {c['failed']}"
        f"  pending: {c['pending']}"
        + (f"  needs sync: {c['needs_sync']}" if c.get("needs_sync") else ""),
        f"hours created: {summary.hours_created:g}  requests: {summary.requests}"
        f"  retries: {summary.retries}  429s: {summary.responses_429}"
        f"  elapsed: {summary.elapsed_seconds:.1f} s",
    ]


def print_summary(summary: RunSummary) -> None:
    """The run in a few lines: counts, hours, rows to fix, where the files are."""
    c = summary.counts
    if summary.command == "undo":
        print_undo(summary)
        return
    lines = _count_lines(summary)
    lines += [f"note: {note}" for note in summary.notes]
    lines += _batch_notes(summary)
    if summary.sync is not None and summary.dry_run:
        lines += summary.sync.get("plan", [])
        if summary.sync.get("a_real_run_would_refuse"):
            lines.append("a real run would refuse: " + summary.sync["a_real_run_would_refuse"])
    if summary.command in ("run", "sync"):
        lines.append(
            f"times read in {summary.timezone} (input.timezone)"
            if summary.timezone
            else "times carried their own UTC offsets (input.timezone not set)"
        )
    lines += month_lines(summary)
    if summary.merge:
        m = summary.merge
        lines.append(
            f"merged per person, issue and day: {m['rows']} rows make {m['groups']} worklogs "
            f"({m['requests_saved']} requests saved); the hours per person are the files'"
            + (
                f", but for {m['not_booked']} groups not booked: a row of each is invalid "
                "(see the rows to fix)"
                if m.get("not_booked")
                else ""
            )
        )
    if summary.hours_by_author:
        what = "hours to create" if summary.dry_run else "hours created"
        lines += _hours_table(f"{what} by person", summary.hours_by_author)
        lines += _hours_table(f"{what} by issue", summary.hours_by_issue)
    shown = len(summary.problems)
    trouble = c["failed"] + c["invalid"] + c.get("conflict", 0) + c.get("needs_sync", 0)
    heading = f"rows to fix (first {shown} of {trouble}):" if trouble > shown else "rows to fix:"
    lines += _ending(summary, heading)
    if summary.failed_rows_path is not None:
        lines.append(f"rows to fix and re-run: {summary.failed_rows_path}")
    echo("\n".join(lines))


def print_undo(summary: RunSummary) -> None:
    """An undo in a few lines: what was deleted, left, or is left to do."""
    c = summary.counts
    if summary.dry_run:
        lines = [
            "dry run: nothing was sent, no state was changed",
            f"undo of batch {summary.batch!r}: would delete {c['pending']} worklogs",
        ]
    else:
        lines = [
            f"undo of batch {summary.batch!r}: deleted {c['deleted']}  gone already: {c['gone']}"
            f"  conflict (left as they are): {c['conflict']}  failed: {c['failed']}"
            f"  pending: {c['pending']}",
            f"requests: {summary.requests}  retries: {summary.retries}"
            f"  429s: {summary.responses_429}  elapsed: {summary.elapsed_seconds:.1f} s",
        ]
    lines += _ending(summary, "worklogs to look at:")
    echo("\n".join(lines))


def _verdict(summary: RunSummary) -> str:
    """Whether Tracker matches the file; rows that could not be compared are said apart."""
    c = summary.counts
    if summary.exit_code == 0:
        return "Tracker matches the file"
    if not any(c[k] for k in ("missing", "different", "extra", "failed")) and c["invalid"]:
        return f"Tracker matches the file's valid rows; {c['invalid']} rows are invalid"
    return "Tracker differs from the file"


def print_verify(summary: RunSummary) -> None:
    """A verify in a few lines: rows present, missing, different; extras; hours side by side."""
    c = summary.counts
    lines = [
        f"verify of batch {summary.batch!r}: present {c['present']}  missing {c['missing']}"
        f"  different {c['different']}  extra {c['extra']}  invalid {c['invalid']}"
        f"  not checked {c['failed']}",
        _verdict(summary),
    ]
    for field in ("person", "issue"):
        totals = (summary.verify or {}).get(field, {})
        if totals:
            lines.append(f"hours by {field}: file → Tracker")
            for name, hours in list(totals.items())[:TOP]:
                mark = "" if hours["file"] == hours["tracker"] else "   ≠"
                lines.append(
                    f"  {name or '(token owner)':<30} {hours['file']:>9.2f} → "
                    f"{hours['tracker']:.2f} h{mark}"
                )
    lines += _ending(summary, "rows to look at:")
    echo("\n".join(lines))


def inspection_lines(found: Inspection) -> list[str]:
    """What ``inspect`` shows: format, header, preset, column map, first rows."""
    lines = [f"file: {found.path}"]
    if found.kind == "csv":
        delimiter = {"\t": "tab"}.get(found.delimiter, repr(found.delimiter))
        lines.append(f"format: CSV  encoding: {found.encoding}  delimiter: {delimiter}")
    else:
        lines.append(f"format: spreadsheet ({found.path.suffix.lstrip('.').upper()})")
    if found.note:
        lines.append(f"note: {found.note}")
    lines.append(f"header row: {found.header_row}")
    lines.append("columns: " + ", ".join(found.header))
    guessed = PRESETS[found.guessed_preset].title if found.guessed_preset else "none matches"
    lines.append(f"preset it would guess: {found.guessed_preset or '-'} ({guessed})")
    if found.problem:
        lines.append(f"problem: {found.problem}")
    else:
        lines.append(f"preset in use: {found.preset or 'none (columns from the config)'}")
        lines.append(f"timezone: {found.timezone}")
        lines.append("column map:")
        lines += [f"  {field:<9} <- {column}" for field, column in found.column_map.items()]
        lines.append(f"first {len(found.rows)} rows as they would be sent:")
        lines += [f"  row {row.row}: {describe(result)}" for row, result in found.rows]
    return lines
