"""One import run: read every file, book every valid row exactly once, account for every row.

``run_import(options) -> RunSummary`` is the whole product as a library call; the CLI only
parses flags into :class:`RunOptions` and turns the summary (or an error) into an exit code.
This module only wires the stages together: inputs → bookings → the worker pool (delivering
or planning) → the sink.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence

from importer.clock import Clock
from importer.config import DeliverySection, check_batch_name
from importer.deliver import (
    Planner,
    Refusals,
    RunStop,
)
from importer.errors import (
    InputError,
    SyncRefused,
)
from importer.log import get_logger
from importer.models import Booking, Mode, Outcome
from importer.month import MonthFacts, MonthFindings, find
from importer.month.groups import group
from importer.pipeline.bookings import RowNotes, bookings, survey
from importer.pipeline.delivery import Delivery
from importer.pipeline.inputs import InputFile, open_inputs
from importer.pipeline.merging import Merger, merge_option
from importer.pipeline.options import (
    RunOptions,
    precheck_on,
    report_path_for,
    summary_path,
)
from importer.pipeline.rebooking import MERGED_RUN, Rebook, booked_other_way, refuse_switch
from importer.pipeline.rechecking import Recheck, recheck
from importer.pipeline.session import RunSession
from importer.pipeline.sink import flushing
from importer.pipeline.syncing import (
    check_valve,
    handler,
    make_plan,
    plan_lines,
    plan_summary,
)
from importer.report import RunSummary
from importer.sync import CorrectionGuard, Step, SyncPlan


def union_columns(inputs: Sequence[InputFile]) -> list[str]:
    seen: dict[str, None] = {}
    for opened in inputs:
        seen.update(dict.fromkeys(opened.table.columns))
    return list(seen)


def _until_unreadable(
    rows: Iterator[Booking | Outcome], stops: RunStop
) -> Iterator[Booking | Outcome]:
    """The rows, until one cannot be read: then the run stops there, rows under way
    settle, and the summary says what was booked (files are read whole before the first
    request, so this takes a file that changed or broke while the run read it)."""
    try:
        yield from rows
    except InputError as exc:
        stops.stop(exc)


def _show_progress(options: RunOptions, inputs: Sequence[InputFile], session: RunSession) -> None:
    if options.progress is not None:
        options.progress.start(sum(i.table.estimated_rows() for i in inputs))
        session.stack.callback(options.progress.stop)


async def _book_or_plan(
    options: RunOptions,
    steps: Iterable[Step],
    session: RunSession,
    delivery: Delivery | None,
    forget: frozenset[str],
) -> None:
    """Deliver every row (or, in a dry run, plan it), the pool's workers sharing the work."""
    journal, stops, pool = session.journal, session.stops, session.pool
    assert pool is not None
    if options.dry_run:
        holdings = delivery.holdings if delivery is not None and precheck_on(options) else None
        planner = Planner(journal, session.target, stops, holdings, forget=forget)
        # Without --sync every step is a row: the planner takes it directly (a coroutine
        # less per row of a million-row plan).
        plan = handler(None, planner.plan, options.settings.zone) if options.sync else planner.plan
        await pool.run(steps, plan, pooled=lambda: False)
    else:
        assert delivery is not None  # a real run always has a token
        handle = handler(delivery.editor, delivery.deliverer.deliver)
        await pool.run(steps, handle, pooled=lambda: stops.reason is None)
    if not journal.readonly:
        await journal.flush()


def batch_for(options: RunOptions, inputs: Sequence[InputFile]) -> str:
    """The batch this run's bookings belong to: --batch, run.batch, or the first file's name."""
    if options.batch:
        return check_batch_name(options.batch)
    return options.settings.run.batch or inputs[0].table.path.stem or "import"


@dataclasses.dataclass
class _Steps:
    """What a run works through: the rows (or, with ``--sync``, the plan's steps), and what
    the summary says of them afterwards."""

    steps: Iterable[Step]
    plan: SyncPlan | None = None
    refusal: str = ""  # a dry run's note that a real sync would refuse
    guard: CorrectionGuard | None = None

    def complete(self, summary: RunSummary, batch: str) -> None:
        if self.plan is not None:
            summary.sync = {**plan_summary(self.plan), "plan": plan_lines(self.plan, batch)}
            if self.refusal:
                summary.sync["a_real_run_would_refuse"] = self.refusal
        guard = self.guard
        if guard is not None and guard.earlier and guard.read_all and not summary.stopped:
            summary.removed_from_files = guard.removed


def _steps_for(
    options: RunOptions,
    session: RunSession,
    rows: Iterator[Booking | Outcome],
    batch: str,
    forget: frozenset[str],
) -> _Steps:
    """``--sync``: the plan, read whole (an unreadable file refuses before anything is
    sent); otherwise the rows as they stream, corrections held back by the guard.
    ``forget``: the bookings a rebook takes back (a dry run's: would take back) first."""
    journal, target = session.journal, session.target
    earlier = [b for b in journal.batch_bookings(target, batch) if b.fingerprint not in forget]
    recall = journal.recall(target, forget)
    if options.sync:
        plan = make_plan(rows, earlier, recall)
        return _Steps(plan.steps, plan=plan, refusal=_valve(options, plan, batch))
    guard = CorrectionGuard(
        earlier,
        recall,
        book_beside=options.book_beside,
        zone=options.settings.zone,
        per_day=options.settings.merge.per == "day",
    )
    return _Steps(guard.rows(_until_unreadable(rows, session.stops)), guard=guard)


@dataclasses.dataclass
class ReadFiles:
    """What a run knows before its session opens: the files, the batch, the month."""

    options: RunOptions
    mode: Mode
    inputs: list[InputFile]
    batch: str
    facts: MonthFacts
    findings: MonthFindings
    merger: Merger | None


def read_files(options: RunOptions, now: Callable[[], dt.datetime] | None) -> ReadFiles:
    """Open the files and read them whole once: nothing is sent before this is done."""
    options = merge_option(options)
    settings = options.settings
    merged = settings.merge.per != "off"
    mode = Mode(options.mode or settings.tracker.mode)  # "import" from a Python caller too
    inputs = open_inputs(options.files, settings, mode=mode, now=now, names=options.file_names)
    batch = batch_for(options, inputs)
    for opened in inputs:
        if opened.table.other_sheets:
            get_logger().warning(
                "sheets_not_read", file=opened.table.shown, sheets=opened.table.other_sheets
            )
    facts = survey(inputs, merged)  # the first pass: the month as a whole
    findings = find(facts, settings.month, settings.input.max_day_hours, batch)
    merger = (
        Merger(group(facts), settings.merge, settings.input.max_comment_length) if merged else None
    )
    return ReadFiles(options, mode, inputs, batch, facts, findings, merger)


async def run_import_async(
    options: RunOptions,
    *,
    clock: Clock | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> RunSummary:
    """Run one import; raises ``ConfigError``/``InputError``/``StateLocked`` before sending."""
    read = read_files(options, now)
    options, mode, inputs, batch = read.options, read.mode, read.inputs, read.batch
    report_path = report_path_for(options)
    async with RunSession.open(options, readonly=options.dry_run) as session:
        command = "sync" if options.sync else "run"
        files = [str(i.table.path) for i in inputs]
        session.begin(command, batch, files, recorded=MERGED_RUN if read.merger else None)
        merged = read.merger is not None
        earlier = booked_other_way(session.journal, session.target, batch, merged=merged)
        refuse_switch(earlier, batch, merged=merged, rebook=options.rebook)
        rebook = Rebook(earlier, merged) if earlier else None
        forget = rebook.fingerprints() if rebook is not None else frozenset()
        summary_at = summary_path(options, report_path)
        sink = session.open_sink(report_path, union_columns(inputs), summary_at, options.progress)
        _show_progress(options, inputs, session)
        delivery: Delivery | None = None
        if session.credentials.token:
            delivery = await session.open_delivery(
                mode=mode,
                precheck=precheck_on(options),
                clock=clock,
                policy=_delivery_policy(options),
            )
        _log_start(options, inputs, session, mode)
        with session.signals():
            if delivery is not None and (precheck_on(options) or not options.dry_run):
                await session.identify()
            refusals = await session.check_tracker(read.facts, mode)
            notes = RowNotes(read.findings, refusals, mode, read.merger)
            rows = bookings(inputs, mode, session.target, notes)
            async with flushing(sink):
                if rebook is not None:
                    await rebook.take_back(session, delivery, options.dry_run)
                rechecked = await _recheck(options, session, delivery, batch)
                if rechecked is not None:
                    forget |= frozenset(rechecked.gone)  # a dry run's journal is not marked
                    rows = rechecked.rows(rows)
                if rebook is not None and rebook.unfinished:
                    work = _Steps(rebook.held(rows))  # not one row is booked beside them
                else:
                    work = _steps_for(options, session, rows, batch, forget)
                await _book_or_plan(options, work.steps, session, delivery, forget)
    summary = _concluded(session, read, work, refusals, rebook)
    summary.recheck = rechecked.as_json() if rechecked is not None else None
    return summary


async def _recheck(
    options: RunOptions, session: RunSession, delivery: Delivery | None, batch: str
) -> Recheck | None:
    """``--recheck``: the batch's worklogs looked for in Tracker (needs a token)."""
    if not options.recheck or delivery is None or session.stops.reason is not None:
        return None
    concurrency = options.settings.delivery.concurrency
    return await recheck(session.journal, session.target, batch, delivery, concurrency)


def _concluded(
    session: RunSession,
    read: ReadFiles,
    work: _Steps,
    refusals: Refusals | None,
    rebook: Rebook | None,
) -> RunSummary:
    summary = session.summary
    assert summary is not None
    settings = read.options.settings
    summary.timezone = settings.input.timezone
    summary.presets = {i.table.shown: i.column_map.preset_name or "" for i in read.inputs}
    summary.month = read.findings.as_json()
    summary.notes = [note for i in read.inputs if (note := i.table.other_sheets_note())]
    summary.tracker_checks = refusals.as_json() if refusals is not None else None
    if read.merger is not None:
        groups = len(read.merger.groups)
        summary.merge = {"per": "day", "rows": len(read.facts), "groups": groups,
                         "requests_saved": len(read.facts) - groups,
                         "not_booked": read.merger.not_booked}  # fmt: skip
    summary.rebook = rebook.as_json() if rebook is not None else None
    work.complete(summary, read.batch)
    summary.publish(
        "run_finished",
        hours_created=summary.hours_created,
        stopped=summary.stopped or None,
        removed_from_files=summary.removed_from_files,
    )
    return summary


def _log_start(
    options: RunOptions, inputs: Sequence[InputFile], session: RunSession, mode: Mode
) -> None:
    get_logger().info(
        "run_started",
        files=[str(i.table.path) for i in inputs],
        presets=[i.column_map.preset_name for i in inputs],
        dry_run=options.dry_run,
        mode=mode,
        journal=session.journal.path,
        precheck=precheck_on(options),
        batch=session.batch,
        run_id=session.journal.run_id,
        sync=options.sync,
    )


def _delivery_policy(options: RunOptions) -> DeliverySection:
    """The config's delivery policy; against the embedded sandbox, its own commit horizon:
    the double stores a write within its ``commit_delay`` and ``latency``, so a rehearsal
    with dropped answers need not wait a real Tracker's horizon."""
    policy = options.settings.delivery
    if options.sandbox is None:
        return policy
    own = options.sandbox.commit_delay + options.sandbox.latency + 1.0
    return dataclasses.replace(policy, commit_horizon=min(policy.commit_horizon, own))


def _valve(options: RunOptions, plan: SyncPlan, batch: str) -> str:
    """Refuse a sync that would delete too much; a dry run only says it would refuse."""
    share = options.settings.sync.max_delete_share
    try:
        check_valve(plan, batch, share, options.allow_mass_delete)
    except SyncRefused as refused:
        if not options.dry_run:
            raise
        return str(refused).splitlines()[0]
    return ""


def run_import(options: RunOptions, *, clock: Clock | None = None) -> RunSummary:
    """Run one import to the end (see :func:`run_import_async`)."""
    return asyncio.run(run_import_async(options, clock=clock))
