"""The verification service: pipeline, decision rules, masking, storage of the outcome."""

from kyc.verification.decision import Decision, DecisionRules, Evidence, decide, load_rules
from kyc.verification.engines import Engines, default_engines
from kyc.verification.masking import mask_fields, mask_id_number, mask_name
from kyc.verification.pipeline import PipelineResult, VerificationInput, run_pipeline
from kyc.verification.retention import purge_expired
from kyc.verification.service import VerificationService, verification_view

__all__ = [
    "Decision",
    "DecisionRules",
    "Evidence",
    "Engines",
    "PipelineResult",
    "VerificationInput",
    "VerificationService",
    "decide",
    "default_engines",
    "load_rules",
    "mask_fields",
    "mask_id_number",
    "mask_name",
    "purge_expired",
    "run_pipeline",
    "verification_view",
]
