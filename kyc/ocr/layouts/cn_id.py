"""The Chinese resident identity card (second generation, GA 467): front and back.

Parsing and validation live in :mod:`kyc.ocr.cn_id` (text lines in, plain values
out); this module gives them their typed fields and registers the two sides.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from kyc.ocr import cn_id
from kyc.ocr.checks import Check
from kyc.ocr.divisions import authority_division, correct_division
from kyc.ocr.names import check_name, name_confidence, normalise_name
from kyc.ocr.layouts._base import DocumentFields, Layout

__all__ = ["CnIdFront", "CnIdBack", "FRONT", "BACK"]


def _date(value: str | None) -> _dt.date | None:
    return None if value is None else _dt.date.fromisoformat(value)


@dataclass(frozen=True)
class CnIdFront(DocumentFields):
    name: str | None
    sex: str | None
    ethnicity: str | None
    birth_date: _dt.date | None
    address: str | None
    id_number: str | None


@dataclass(frozen=True)
class CnIdBack(DocumentFields):
    issuing_authority: str | None
    valid_from: _dt.date | None
    valid_until: _dt.date | None  # None with long_term: 长期
    long_term: bool = False


def _parse_front(lines) -> tuple[CnIdFront, dict[str, float]]:
    raw, conf = cn_id.parse_front(lines)
    address = correct_division(raw["address"]) if raw["address"] else None  # look-alikes in the division part only
    name = normalise_name(raw["name"]) if raw["name"] else None
    conf = {**conf, "name": name_confidence(name, conf.get("name", 0.0))}
    return CnIdFront(name, raw["sex"], raw["ethnicity"], _date(raw["birth_date"]), address, raw["id_number"]), conf


def _parse_back(lines) -> tuple[CnIdBack, dict[str, float]]:
    raw, conf = cn_id.parse_back(lines)
    authority = authority_division(raw["issuing_authority"])[1] if raw["issuing_authority"] else None
    return CnIdBack(authority, _date(raw["valid_from"]), _date(raw["valid_until"]), raw["long_term"] == "true"), conf


def _validate_front(fields: CnIdFront, *, today: _dt.date | None = None) -> dict[str, Check]:
    return {**cn_id.validate_front(fields.as_text(), today=today), **check_name(fields.name)}


def _validate_back(fields: CnIdBack, *, today: _dt.date | None = None) -> dict[str, Check]:
    return cn_id.validate_back(fields.as_text(), today=today)


def _front_complete(fields: DocumentFields, checks: dict[str, Check]) -> bool:
    return checks["fields_complete"].ok


def _back_complete(fields: DocumentFields, checks: dict[str, Check]) -> bool:
    assert isinstance(fields, CnIdBack)
    return checks["validity"].code != "validity_unreadable" and bool(fields.issuing_authority)


FRONT = Layout(
    type="cn_id_front",
    title="Resident identity card (front)",
    side="front",
    fields=CnIdFront,
    classify=cn_id.front_score,
    parse=_parse_front,
    validate=_validate_front,
    complete=_front_complete,
    portrait=(0.63, 0.08, 0.95, 0.80),
    labels={"ethnicity": "Ethnicity"},
)

BACK = Layout(
    type="cn_id_back",
    title="Resident identity card (back)",
    side="back",
    fields=CnIdBack,
    classify=cn_id.back_score,
    parse=_parse_back,
    validate=_validate_back,
    complete=_back_complete,
    labels={"long_term": "Valid long-term (长期)"},
)
