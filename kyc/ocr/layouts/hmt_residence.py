"""Residence permit for Hong Kong, Macau and Taiwan residents (港澳台居民居住证, 2018).

Front: like the ID card's, without 民族; the 18-digit number follows GB 11643 with
the region code 810000 (Hong Kong), 820000 (Macau) or 830000 (Taiwan). Back: the
title, 签发机关 (a city's public security bureau), 有效期限 (5 years), 通行证号码 (the
holder's travel-permit number: H or M and 8 digits, or 8 digits for Taiwan) and
签发次数 (how many times issued).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass


from kyc.ocr import cn_id
from kyc.ocr.checks import Check, failed, fields_complete, passed
from kyc.ocr.cn_id import TextLine, group_rows
from kyc.ocr.divisions import authority_division, correct_division
from kyc.ocr.gb11643 import normalise_id_number, validate_id_number
from kyc.ocr.layouts._base import DocumentFields, Layout
from kyc.ocr.names import check_name, name_confidence, normalise_name

__all__ = ["HmtResidenceFront", "HmtResidenceBack", "FRONT", "BACK", "PREFIXES", "permit_number_ok"]

PREFIXES = {"810000": "Hong Kong", "820000": "Macau", "830000": "Taiwan"}
_TITLE = "港澳台居民居住证"
_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8"})


@dataclass(frozen=True)
class HmtResidenceFront(DocumentFields):
    name: str | None
    sex: str | None
    birth_date: _dt.date | None
    address: str | None
    id_number: str | None


@dataclass(frozen=True)
class HmtResidenceBack(DocumentFields):
    issuing_authority: str | None
    valid_from: _dt.date | None
    valid_until: _dt.date | None
    permit_number: str | None
    issue_count: int | None


def _squash(text: str) -> str:
    return re.sub(r"[\s:：]", "", text)


def _number(lines: list[TextLine]) -> str | None:
    for ln in lines:
        num = normalise_id_number(ln.text)
        if num:
            return num
    return None


def front_score(lines: list[TextLine]) -> float:
    """The ID card front's labels and number, +2 for a 810000/820000/830000 number (an ID
    card never has one), so the permit outscores the ID card front."""
    num = _number(lines)
    return cn_id.front_score(lines) + (2.0 if num and num[:6] in PREFIXES else 0.0) if num else 0.0


def back_score(lines: list[TextLine]) -> float:
    text = "".join(_squash(ln.text) for ln in lines)
    labels = sum(k in text for k in ("居住证", "港澳台", "通行证号码", "签发次数"))
    return cn_id.back_score(lines) + 2.0 * labels if labels >= 2 else 0.0


def _parse_front(lines: list[TextLine]) -> tuple[HmtResidenceFront, dict[str, float]]:
    raw, conf = cn_id.parse_front(lines)
    name = normalise_name(raw["name"]) if raw["name"] else None
    conf = {k: v for k, v in conf.items() if k != "ethnicity"}
    conf["name"] = name_confidence(name, conf.get("name", 0.0))
    address = correct_division(raw["address"]) if raw["address"] else None
    birth = _dt.date.fromisoformat(raw["birth_date"]) if raw["birth_date"] else None
    return HmtResidenceFront(name, raw["sex"], birth, address, raw["id_number"]), conf


def _validate_front(fields: HmtResidenceFront, *, today: _dt.date | None = None) -> dict[str, Check]:
    text = fields.as_text()
    checks = validate_id_number(fields.id_number, printed_birth_date=text["birth_date"], printed_sex=fields.sex, today=today)
    checks.pop("id_number_region", None)  # 830000 is no GB/T 2260 division: the prefix check below replaces it
    if fields.id_number:
        prefix = fields.id_number[:6]
        checks["id_number_prefix"] = (
            passed(f"The number is a residence permit number ({PREFIXES[prefix]}).") if prefix in PREFIXES
            else failed("permit_prefix_invalid", "A residence permit number starts with 810000, 820000 or 830000."))
    checks.update(check_name(fields.name))
    if fields.address:
        checks.update({k: v for k, v in cn_id.check_address(fields.address, None).items()})
    missing = [k for k, v in fields.as_dict().items() if not v]
    checks["fields_complete"] = fields_complete(missing, "Every front field was read.")
    return checks


def _value_after(rows: list[str], label: str) -> str | None:
    for row in rows:
        i = row.find(label)
        if i >= 0:
            return row[i + len(label):] or None
    return None


def _parse_back(lines: list[TextLine]) -> tuple[HmtResidenceBack, dict[str, float]]:
    lines = [ln for ln in lines if _squash(ln.text) and not cn_id.WATERMARK.search(_squash(ln.text))]
    rows = group_rows(lines)
    texts = ["".join(_squash(x.text) for x in r) for r in rows]
    scores = [min(x.score for x in r) for r in rows]

    def conf_of(label: str) -> float:
        return next((round(s, 4) for t, s in zip(texts, scores) if label in t), 0.0)

    authority = _value_after(texts, "签发机关")
    if authority:
        authority = authority_division(authority)[1]
    validity = (_value_after(texts, "有效期限") or "").translate(_DIGITS)
    m = re.search(r"(\d{4})\D{0,2}?(\d{2})\D{0,2}?(\d{2})\D*?(\d{4})\D{0,2}?(\d{2})\D{0,2}?(\d{2})", validity)
    start = end = None
    if m:
        try:
            start = _dt.date(*map(int, m.group(1, 2, 3)))
            end = _dt.date(*map(int, m.group(4, 5, 6)))
        except ValueError:
            start = end = None
    permit = _value_after(texts, "通行证号码")
    permit = re.sub(r"[^A-Z0-9]", "", permit.upper()) if permit else None
    if permit:
        permit = permit[0] + permit[1:].translate(_DIGITS) if permit[0] in "HM" else permit.translate(_DIGITS)
    count_text = (_value_after(texts, "签发次数") or "").translate(_DIGITS)
    count = int(re.search(r"\d+", count_text).group(0)) if re.search(r"\d+", count_text) else None
    fields = HmtResidenceBack(authority, start, end, permit or None, count)
    conf = {"issuing_authority": conf_of("签发机关"), "valid_from": conf_of("有效期限"), "valid_until": conf_of("有效期限"),
            "permit_number": conf_of("通行证号码"), "issue_count": conf_of("签发次数")}
    return fields, conf


def permit_number_ok(number: str) -> bool:
    """H or M and 8 digits (Hong Kong, Macau), or 8 digits (Taiwan)."""
    return bool(re.fullmatch(r"[HM]\d{8}|\d{8}", number))


def _validate_back(fields: HmtResidenceBack, *, today: _dt.date | None = None) -> dict[str, Check]:
    text = fields.as_text()
    checks = cn_id.validate_back({"issuing_authority": text["issuing_authority"], "valid_from": text["valid_from"],
                                  "valid_until": text["valid_until"], "long_term": "false"}, today=today)
    checks.pop("validity_term", None)
    if fields.valid_from and fields.valid_until:
        checks["validity_term"] = (passed("The validity term is 5 years.")
                                   if cn_id._add_years(fields.valid_from, 5) == fields.valid_until
                                   else failed("validity_term_irregular", "A residence permit is valid for 5 years."))
    if fields.permit_number is not None:
        checks["permit_number_format"] = (passed("The travel permit number has its format.") if permit_number_ok(fields.permit_number)
                                          else failed("permit_number_malformed", "The travel permit number is not H/M and 8 digits or 8 digits."))
    missing = [k for k, v in fields.as_dict().items() if v is None]
    checks["fields_complete"] = fields_complete(missing, "Every back field was read.")
    return checks


def _complete(fields: DocumentFields, checks: dict[str, Check]) -> bool:
    return checks["fields_complete"].ok


FRONT = Layout(
    type="hmt_residence_front",
    title="Residence permit for Hong Kong, Macau and Taiwan residents (front)",
    side="front",
    fields=HmtResidenceFront,
    classify=front_score,
    parse=_parse_front,
    validate=_validate_front,
    complete=_complete,
    portrait=(0.63, 0.08, 0.95, 0.80),
)

BACK = Layout(
    type="hmt_residence_back",
    title="Residence permit for Hong Kong, Macau and Taiwan residents (back)",
    side="back",
    fields=HmtResidenceBack,
    classify=back_score,
    parse=_parse_back,
    validate=_validate_back,
    complete=_complete,
    labels={"permit_number": "Travel permit number", "issue_count": "Times issued"},
)
