"""Decision rules as data: which evidence approves, which goes to review, which rejects.

Pure: :func:`decide` takes the evidence gathered by the pipeline and the rules, and
returns a status with reason codes. Safe defaults: anything failed and not listed goes
to human review (never silently approved), and a face mismatch or failed liveness
rejects. A TOML file (``KYC_DECISION_RULES_FILE``) overrides any field, e.g.::

    face_operating_point = "fmr_1e-4"
    min_field_confidence = 0.9
    reject = ["face_mismatch", "liveness_failed", "document_expired"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

__all__ = ["DecisionRules", "Evidence", "Decision", "decide", "load_rules"]

Action = Literal["reject", "review"]


@dataclass(frozen=True)
class DecisionRules:
    face_operating_point: str = "fmr_1e-3"
    # Similarity this far below the face threshold goes to review instead of rejection.
    face_review_margin: float = 0.05
    min_field_confidence: float = 0.80
    required_fields: tuple[str, ...] = ("name", "id_number")
    # Reason codes (or document check names) and what they lead to.
    reject: frozenset[str] = frozenset(
        {"face_mismatch", "liveness_failed", "document_expired", "id_number_checksum", "id_number_checksum_invalid"}
    )
    review: frozenset[str] = frozenset(
        {
            "face_mismatch_borderline",
            "face_mismatch_low_quality_portrait",
            "duplicate_identity",
            "document_low_confidence",
            "document_fields_missing",
            "id_portrait_missing",
        }
    )
    default_action: Action = "review"

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
    liveness: dict[str, object] | None = None  # kind, live, score, threshold, model
    duplicate: bool = False
    models: dict[str, str] = field(default_factory=dict)


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
    if ev.liveness is None:
        found.append(("liveness_missing", rules.action("liveness_missing")))
    elif not ev.liveness.get("live"):
        found.append(("liveness_failed", rules.action("liveness_failed")))
    if ev.duplicate:
        found.append(("duplicate_identity", rules.action("duplicate_identity")))

    reasons = sorted({code for code, _ in found})
    if any(a == "reject" for _, a in found):
        status = "rejected"
    elif found:
        status = "review"
    else:
        status = "approved"
    scores: dict[str, object] = {
        "face": ev.face,
        "liveness": ev.liveness,
        "document": {"confidence": ev.confidence, "min_field_confidence": rules.min_field_confidence},
    }
    return Decision(status, reasons, scores)


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
    return rules
