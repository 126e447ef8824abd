"""The month as a whole: checks across rows (overlaps, day limits, the batch's month, empty
working days) and the person × day grid. Pure: the pipeline feeds it rows."""

from importer.month.findings import MonthFacts, MonthFindings, find
from importer.month.period import named_month, working_days

__all__ = ["MonthFacts", "MonthFindings", "find", "named_month", "working_days"]
