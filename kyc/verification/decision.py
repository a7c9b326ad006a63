"""Decision rules as data: which evidence approves, which goes to review, which rejects.

Pure: :func:`decide` takes the evidence gathered by the pipeline and the rules, and
returns a status with reason codes. Safe defaults: anything failed and not listed goes
to human review (never silently approved), and a face mismatch or failed liveness
rejects. A TOML file (``KYC_DECISION_RULES_FILE``) overrides any field, e.g.::

    face_operating_point = "fmr_1e-4"
    min_field_confidence = 0.9
    reject = ["face_mismatch", "liveness_failed", "document_expired"]
    liveness_evidence = "either"

Liveness evidence (``liveness_evidence``): what may approve a verification.

* ``"active"`` (the default): only a finished active session, a random challenge a
  pre-recorded video cannot follow in time. A still selfie proves less: a good photo or
  screen of the victim is one capture away, and the passive check's error on data it
  was never calibrated on is measured in per cent (README, liveness table). A selfie
  the passive check calls live goes to review (``liveness_passive_only``).
* ``"passive"``: a passive outcome of ``live`` at the calibrated operating point, from
  a selfie or from an active session's frames.
* ``"either"``: an active session or a passive ``live``.

Whatever the setting, weak passive evidence (``liveness_weak``) goes to review, a
spoof or failed session (``liveness_failed``) rejects, and an unusable selfie
(``liveness_retake``, with the framing reasons in the liveness scores) asks for a
new capture.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

__all__ = [
    "DecisionRules",
    "Evidence",
    "Decision",
    "decide",
    "load_rules",
    "liveness_findings",
    "liveness_evidence_used",
    "LIVENESS_EVIDENCE",
]

Action = Literal["reject", "review"]
LivenessEvidence = Literal["active", "passive", "either"]
LIVENESS_EVIDENCE = ("active", "passive", "either")


@dataclass(frozen=True)
class DecisionRules:
    face_operating_point: str = "fmr_1e-3"
    # Similarity this far below the face threshold goes to review instead of rejection.
    face_review_margin: float = 0.05
    min_field_confidence: float = 0.80
    required_fields: tuple[str, ...] = ("name", "id_number")
    # Reason codes (or document check names) and what they lead to.
    reject: frozenset[str] = frozenset(
        {
            "face_mismatch",
            "liveness_failed",
            "liveness_retake",
            "document_expired",
            "id_number_checksum",
            "id_number_checksum_invalid",
        }
    )
    review: frozenset[str] = frozenset(
        {
            "face_mismatch_borderline",
            "face_mismatch_low_quality_portrait",
            "duplicate_identity",
            "document_low_confidence",
            "document_fields_missing",
            "id_portrait_missing",
            "liveness_weak",
            "liveness_passive_only",
            "liveness_active_only",
        }
    )
    default_action: Action = "review"
    liveness_evidence: LivenessEvidence = "active"

    def action(self, reason: str, check_name: str | None = None) -> Action:
        if reason in self.reject or (check_name and check_name in self.reject):
            return "reject"
        if reason in self.review or (check_name and check_name in self.review):
            return "review"
        return self.default_action


@dataclass
class Evidence:
    """What the pipeline found. Scores are in [0, 1] unless stated."""

    document_type: str | None = None
    fields: dict[str, str | None] = field(default_factory=dict)
    failed_checks: list[tuple[str, str]] = field(default_factory=list)  # (check name, reason code)
    confidence: dict[str, float] = field(default_factory=dict)
    # similarity, threshold, match, model, operating_point, stage, and the portrait's quality
    # band ("portrait_band": good / low / unknown, "portrait_band_reasons")
    face: dict[str, object] | None = None
    face_problem: str | None = None  # reason code when no comparison could be made
    liveness: dict[str, object] | None = None  # kind, live, outcome, score, threshold, reasons, model[, passive]
    duplicate: bool = False
    models: dict[str, str] = field(default_factory=dict)
    # Reason codes that inform without failing (a document check passed with a note, such
    # as address_region_mismatch: people move): listed in the reasons, status unchanged.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    status: Literal["approved", "rejected", "review"]
    reasons: list[str]
    scores: dict[str, object]


def decide(ev: Evidence, rules: DecisionRules) -> Decision:
    found: list[tuple[str, Action]] = []
    for name, code in ev.failed_checks:
        found.append((code, rules.action(code, name)))
    missing = [f for f in rules.required_fields if not ev.fields.get(f)]
    if missing:
        found.append(("document_fields_missing", rules.action("document_fields_missing")))
    low = {k: v for k, v in ev.confidence.items() if k in ev.fields and v < rules.min_field_confidence}
    if low:
        found.append(("document_low_confidence", rules.action("document_low_confidence")))
    if ev.face_problem:
        found.append((ev.face_problem, rules.action(ev.face_problem)))
    if ev.face is not None and not ev.face.get("match"):
        sim, thr = float(ev.face["similarity"]), float(ev.face["threshold"])
        if ev.face.get("portrait_band") == "low":
            # the portrait is too poor for the calibrated error rates to hold: a person
            # decides, told why (portrait_small / portrait_blurred / portrait_pose)
            code = "face_mismatch_low_quality_portrait"
        elif sim >= thr - rules.face_review_margin:
            code = "face_mismatch_borderline"
        else:
            code = "face_mismatch"
        found.append((code, rules.action(code)))
    for code in liveness_findings(ev.liveness, rules):
        found.append((code, rules.action(code)))
    if ev.duplicate:
        found.append(("duplicate_identity", rules.action("duplicate_identity")))

    reasons = sorted({code for code, _ in found} | set(ev.notes))
    if any(a == "reject" for _, a in found):
        status = "rejected"
    elif found:
        status = "review"
    else:
        status = "approved"
    scores: dict[str, object] = {
        "face": ev.face,
        "liveness": ev.liveness,
        "liveness_evidence": liveness_evidence_used(ev.liveness, rules),
        "document": {"confidence": ev.confidence, "min_field_confidence": rules.min_field_confidence},
    }
    return Decision(status, reasons, scores)


def _passive_outcome(liveness: dict[str, object]) -> str:
    if liveness.get("kind") == "passive":
        return str(liveness.get("outcome") or ("live" if liveness.get("live") else "spoof"))
    nested = liveness.get("passive")
    return str(nested.get("outcome")) if isinstance(nested, dict) else "missing"


def liveness_findings(liveness: dict[str, object] | None, rules: DecisionRules) -> list[str]:
    """Reason codes from the liveness evidence under ``rules.liveness_evidence``."""
    if liveness is None:
        return ["liveness_missing"]
    kind = liveness.get("kind")
    if kind == "passive":
        outcome = _passive_outcome(liveness)
        if outcome == "retake":
            return ["liveness_retake"]
        if outcome == "weak":
            return ["liveness_weak"]
        if outcome != "live":
            return ["liveness_failed"]
        return [] if rules.liveness_evidence in ("passive", "either") else ["liveness_passive_only"]
    if not liveness.get("live"):
        return ["liveness_failed"]
    if rules.liveness_evidence == "passive" and _passive_outcome(liveness) != "live":
        return ["liveness_weak"]
    return []


def liveness_evidence_used(liveness: dict[str, object] | None, rules: DecisionRules) -> dict[str, object]:
    """What the response says about liveness: which evidence there was, what the rules let
    approve, and whether it did."""
    kind = None if liveness is None else liveness.get("kind")
    return {
        "evidence": kind,
        "passive_outcome": None if liveness is None else _passive_outcome(liveness),
        "may_approve": rules.liveness_evidence,
        "sufficient": liveness is not None and not liveness_findings(liveness, rules),
    }


def load_rules(path: Path | None) -> DecisionRules:
    """The defaults, overridden by the TOML file at ``path`` when given."""
    rules = DecisionRules()
    if path is None:
        return rules
    data = tomllib.loads(Path(path).read_text())
    known = {f.name for f in fields(DecisionRules)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown decision rule keys: {sorted(unknown)}")
    changes: dict[str, object] = {}
    for k, v in data.items():
        if k in ("reject", "review"):
            changes[k] = frozenset(v)
        elif k == "required_fields":
            changes[k] = tuple(v)
        else:
            changes[k] = v
    rules = replace(rules, **changes)
    if rules.default_action not in ("reject", "review"):
        raise ValueError("default_action must be reject or review")
    if rules.liveness_evidence not in LIVENESS_EVIDENCE:
        raise ValueError(f"liveness_evidence must be one of {LIVENESS_EVIDENCE}")
    return rules
