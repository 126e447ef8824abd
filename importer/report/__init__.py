"""Report: outcomes → the per-row CSV, the failed-rows file, the summary, the progress bar."""

from importer.report.summary import RunSummary, Tally, summary_path_for, write_summary
from importer.report.writers import REPORT_COLUMNS, FailedRowsWriter, ReportWriter

__all__ = [
    "REPORT_COLUMNS",
    "FailedRowsWriter",
    "ReportWriter",
    "RunSummary",
    "Tally",
    "summary_path_for",
    "write_summary",
]
