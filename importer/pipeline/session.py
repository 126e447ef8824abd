"""One command's session with Tracker: what run, sync, undo and verify share.

The journal (locked, unless the command only reads), credentials (or the embedded sandbox)
with the token redacted from every log event, the stop policy and signals, the outputs, the
delivery core — all closed in order — and how it ends: the summary built once everything is
closed, and the journal's record of the run. A command keeps only what is its own:

    async with RunSession.open(options, readonly=options.dry_run) as session:
        session.begin("run", batch, files)
        sink = session.open_sink(report_path, columns)
        delivery = await session.open_delivery(mode=..., precheck=...)
        with session.signals():
            ...
    summary = session.summary
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from importer.clock import Clock
from importer.config import Credentials, DeliverySection, resolve_credentials
from importer.deliver import Refusals, RunStop, Stopped, look_up
from importer.errors import ConfigError, DeliveryError, ImporterError, exit_code_for
from importer.journal import Journal, exclusive
from importer.log import get_logger, redacting
from importer.models import Mode, RequestStats
from importer.month import MonthFacts
from importer.pipeline.delivery import Delivery, identify, open_delivery, target_of
from importer.pipeline.options import EMBEDDED_SANDBOX, RunOptions, state_path
from importer.pipeline.pool import WorkerPool
from importer.pipeline.signals import signals
from importer.pipeline.sink import Sink, make_sink
from importer.report import RunSummary, Tally
from importer.report.progress import RunProgress


@contextlib.asynccontextmanager
async def credentials_for(options: RunOptions) -> AsyncIterator[Credentials]:
    """Where to send. A dry run may lack a token: it then plans from the journal alone."""
    if options.sandbox is not None:
        from importer.sandbox import running_sandbox  # only now: it brings aiohttp's server

        # With --state, the rehearsal's Tracker keeps its worklogs beside the journal, and
        # its bookings are journaled under one name whatever port it listens on: run twice,
        # the second run books nothing.
        state = state_path(options)
        kept = state.with_name(state.name + ".sandbox.json") if state is not None else None
        async with running_sandbox(options.sandbox, kept=kept, keep=not options.dry_run) as box:
            yield dataclasses.replace(box.credentials(), name=EMBEDDED_SANDBOX)
        return
    if not options.dry_run:
        yield resolve_credentials(options.settings, options.environ)
        return
    try:
        credentials = resolve_credentials(options.settings, options.environ, require_token=False)
    except ConfigError as exc:
        get_logger().warning("journal_not_consulted", reason=str(exc))
        credentials = Credentials(options.settings.tracker.base_url, "", "oauth")
    yield credentials  # outside the try: a refusal inside the session is not this one


@dataclasses.dataclass
class RunSession:
    """What one command holds while it talks to Tracker (see the module's docstring)."""

    options: RunOptions
    journal: Journal
    credentials: Credentials
    stack: contextlib.AsyncExitStack
    tally: Tally
    stops: RunStop = dataclasses.field(default_factory=RunStop)
    command: str = "run"
    batch: str = ""
    sink: Sink | None = None
    delivery: Delivery | None = None
    pool: WorkerPool | None = None
    summary_path: Path | None = None
    report_path: Path | None = None
    summary: RunSummary | None = None  # set once the session has closed

    @property
    def target(self) -> str:
        """Which Tracker organisation this session books in (part of every fingerprint)."""
        return target_of(self.credentials)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, options: RunOptions, *, readonly: bool, lock: bool | None = None
    ) -> AsyncIterator[RunSession]:
        """Lock and open the journal (read-only: no lock unless ``lock``), resolve the
        credentials; on leaving, close everything, then build :attr:`summary` and end the
        journal's run (with the error's exit code if the block raised)."""
        state = state_path(options)
        locked = not readonly if lock is None else lock
        with exclusive(state if locked else None):
            journal = Journal.open(state, readonly=readonly)
            try:
                session = await cls._run(options, journal)
                async with session:
                    yield session
            finally:
                journal.close()

    @classmethod
    async def _run(cls, options: RunOptions, journal: Journal) -> RunSession:
        stack = contextlib.AsyncExitStack()
        try:
            credentials = await stack.enter_async_context(credentials_for(options))
            stack.enter_context(redacting(credentials.token))
        except BaseException:
            await stack.aclose()
            raise
        return cls(options, journal, credentials, stack, Tally(dry_run=options.dry_run))

    async def __aenter__(self) -> RunSession:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.stack.__aexit__(kind, error, traceback)
        except ImporterError as raised:
            self._end(int(exit_code_for(raised)))
            raise
        if isinstance(error, ImporterError):
            self._end(int(exit_code_for(error)))
            return
        if error is None:
            self.summary = self._summarise()
            self._end(int(self.summary.exit_code))

    def begin(
        self, command: str, batch: str, files: Sequence[str], recorded: str | None = None
    ) -> None:
        """Record the run in the journal (a read-only session records nothing); ``recorded``:
        the journal's name for it, when it says more than the command (a merged run)."""
        self.command, self.batch = command, batch
        self.journal.begin_run(
            recorded or command, target=self.target, batch=batch, files=list(files)
        )

    def _end(self, exit_code: int) -> None:
        if self.journal.run_id is not None:
            self.journal.end_run(exit_code)

    def stats(self) -> RequestStats | None:
        return self.delivery.client.stats if self.delivery is not None else None

    def open_sink(
        self,
        report_path: Path,
        columns: list[str],
        summary_path: Path,
        progress: RunProgress | None = None,
    ) -> Sink:
        """The report and failed-rows file (created now: an output that cannot be written
        is refused before anything is sent), and the pool that feeds them."""
        self.report_path, self.summary_path = report_path, summary_path
        self.sink = make_sink(
            report_path,
            columns,
            self.tally,
            self.stats,
            self.stops.stop,
            self.stack,
            summary_path=summary_path,
            progress=progress,
        )
        self.pool = WorkerPool(self.options.settings.delivery.concurrency, self.sink)
        return self.sink

    async def open_delivery(
        self,
        *,
        mode: Mode,
        precheck: bool,
        clock: Clock | None = None,
        policy: DeliverySection | None = None,
    ) -> Delivery:
        """The client and delivery core for the session's credentials (closed with it)."""
        assert self.pool is not None, "open the sink first: the pool lends the delivery workers"
        self.delivery = await open_delivery(
            self.credentials,
            policy or self.options.settings.delivery,
            self.journal,
            self.stops,
            self.pool,
            self.stack,
            mode=mode,
            precheck=precheck,
            clock=clock,
            zone=self.options.settings.zone,
        )
        return self.delivery

    async def identify(self) -> None:
        """Learn whose token this is, or stop the run saying why no row could be booked."""
        assert self.delivery is not None
        await identify(self.delivery.holdings, self.stops, self.credentials)

    async def check_tracker(self, facts: MonthFacts, mode: Mode) -> Refusals | None:
        """Which of the rows' issues (and, in import mode, authors) Tracker will refuse,
        asked once each before the first row is sent; None when it could not be asked."""
        delivery = self.delivery
        if delivery is None or self.stops.reason is not None:
            return None
        if not self.options.settings.delivery.check_issues:
            return None
        authors = [a for a in facts.people if a]
        try:
            return await look_up(delivery.calls, delivery.holdings, facts.issues, authors, mode)
        except DeliveryError as exc:
            self.stops.stop(exc)
        except Stopped:
            pass
        return None

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """SIGHUP/SIGINT/SIGTERM (when the options ask) and a service's cancel stop the run."""
        with signals(self.stops, self.options.handle_signals, self.options.cancel):
            yield

    def _summarise(self) -> RunSummary:
        assert self.sink is not None and self.report_path and self.summary_path
        summary = RunSummary.of(
            self.tally,
            self.stats(),
            report_path=self.report_path,
            summary_path=self.summary_path,
            failed_rows_path=self.sink.failed.path if self.sink.failed.rows else None,
            state_path=self.journal.path,
            problems=self.sink.problems,
            stopped=self.stops.reason,
            sent=self.stops.sent > 0,
        )
        summary.command, summary.batch = self.command, self.batch
        summary.submitted_by = self.options.submitted_by
        summary.run_id = self.journal.run_id
        return summary
