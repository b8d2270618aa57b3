"""Turn selected judgment records into TRL / raw preference datasets (plain Python, no Django)."""
from exporters.records import ComparisonRecord, ExportError, ExportRequest, JudgmentRecord
from exporters.export import write_export

__all__ = ["ComparisonRecord", "JudgmentRecord", "ExportRequest", "ExportError", "write_export"]
