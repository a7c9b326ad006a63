"""Privacy mechanisms that keep the policy's promises (issue 15): incident reports,
decommissioning, residency and the data inventory. Map: docs/privacy.md."""

from kyc.privacy.decommission import DecommissionRefused, confirmation_phrase, decommission
from kyc.privacy.incident import EXPOSURE, IncidentQuery, incident_report, notice_draft

__all__ = ["DecommissionRefused", "confirmation_phrase", "decommission", "EXPOSURE", "IncidentQuery", "incident_report", "notice_draft"]
