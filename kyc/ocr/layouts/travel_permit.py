"""Mainland travel permits: 港澳居民来往内地通行证 (Hong Kong and Macau residents, card of
2012) and 台湾居民来往大陆通行证 (Taiwan residents, card of 2015), the identity side.

The permit number is H (Hong Kong) or M (Macau) and 8 digits, or 8 digits for Taiwan;
the portrait is on the left, fields on the right, labelled in Chinese: 姓名 (the
Chinese name, the name in Latin letters below), 出生日期, 性别, 有效期限 (10 years,
5 for minors), 签发机关 (an exit-entry administration), 证件号码 and 换证次数.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import ClassVar

from kyc.ocr import cn_id
from kyc.ocr.checks import Check, failed, fields_complete, validity_period, passed
from kyc.ocr.cn_id import TextLine, group_rows
from kyc.ocr.divisions import _county_names, divisions
from kyc.ocr.layouts._base import DocumentFields, Layout
from kyc.ocr.names import check_name, name_confidence, normalise_name

__all__ = ["TravelPermitFront", "FRONT", "permit_region", "authority_ok"]

_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8"})
_LABELS = {"name_zh": "姓名", "birth_date": "出生日期", "sex": "性别", "validity": "有效期限", "issuing_authority": "签发机关",
           "permit_number": "证件号码", "issue_count": "换证次数"}


@dataclass(frozen=True)
class TravelPermitFront(DocumentFields):
    name_zh: str | None
    name_en: str | None
    birth_date: _dt.date | None
    sex: str | None
    valid_from: _dt.date | None
    valid_until: _dt.date | None
    issuing_authority: str | None
    permit_number: str | None
    issue_count: int | None

    COMMON: ClassVar = {"name": "name_zh", "id_number": "permit_number"}

    def common(self) -> dict[str, str | None]:
        out = super().common()
        if out.get("name") is None and self.name_en:
            out["name"] = self.name_en
        return out


def permit_region(number: str | None) -> str | None:
    """``hong_kong``, ``macau`` or ``taiwan`` from the number's form, else None."""
    if number is None:
        return None
    if re.fullmatch(r"H\d{8}", number):
        return "hong_kong"
    if re.fullmatch(r"M\d{8}", number):
        return "macau"
    if re.fullmatch(r"\d{8}", number):
        return "taiwan"
    return None


def _squash(text: str) -> str:
    return re.sub(r"[\s:：]", "", text)


def authority_ok(authority: str) -> bool:
    """公安部出入境管理局 (the national administration, now 国家移民管理局), or a province's or
    city's exit-entry administration whose place is a GB/T 2260 division."""
    if authority in ("公安部出入境管理局", "国家移民管理局"):
        return True
    m = re.fullmatch(r"(.+?)公安(?:厅|局)出入境管理(?:局|处)", authority)
    return bool(m) and (m.group(1) in divisions() or m.group(1) in _county_names())


def front_score(lines: list[TextLine]) -> float:
    text = "".join(_squash(ln.text) for ln in lines)
    score = 3.0 * ("来往内地通行证" in text or "来往大陆通行证" in text) + 2.0 * ("换证次数" in text)
    score += 1.0 * ("签发机关" in text) + 1.0 * ("证件号码" in text)
    return score if score >= 3 else 0.0


def _value(rows: list[list[TextLine]], label: str) -> tuple[str | None, float, int | None]:
    for i, r in enumerate(rows):
        text = "".join(_squash(x.text) for x in r)
        k = text.find(label)
        if k >= 0:
            return text[k + len(label):] or None, min(x.score for x in r), i
    return None, 0.0, None


def _parse(lines: list[TextLine]) -> tuple[TravelPermitFront, dict[str, float]]:
    lines = [ln for ln in lines if _squash(ln.text) and not cn_id.WATERMARK.search(_squash(ln.text)) and ln.x0 > 0.3]
    rows = group_rows(lines)
    name, c_name, i_name = _value(rows, "姓名")
    name = normalise_name(re.sub(r"[^\u4e00-\u9fff·•．]", "", name)) if name else None
    name_en, c_en = None, 0.0
    if i_name is not None and i_name + 1 < len(rows):
        below = " ".join(x.text for x in rows[i_name + 1]).upper()
        if re.fullmatch(r"[A-Z ,\-']{3,}", below.strip()):
            name_en, c_en = re.sub(r"\s+", " ", below).strip(" ,"), min(x.score for x in rows[i_name + 1])
    birth, c_birth, _ = _value(rows, "出生日期")
    births = _dates(birth or "")
    sex_text, c_sex, _ = _value(rows, "性别")
    sex = next((ch for ch in (sex_text or "") if ch in "男女"), None)
    validity, c_valid, _ = _value(rows, "有效期限")
    period = _dates(validity or "")
    authority, c_auth, _ = _value(rows, "签发机关")
    number_text, c_num, _ = _value(rows, "证件号码")
    number = None
    if number_text:
        m = re.search(r"([HM])?([0-9OoDIlZSB]{8})", number_text)
        number = ((m.group(1) or "") + m.group(2).translate(_DIGITS)) if m else None
    count_text, c_count, _ = _value(rows, "换证次数")
    count = re.search(r"\d+", (count_text or "").translate(_DIGITS))
    fields = TravelPermitFront(name or None, name_en, births[0] if births else None, sex,
                               period[0] if len(period) >= 2 else None, period[1] if len(period) >= 2 else None,
                               authority, number, int(count.group(0)) if count else None)
    conf = {"name_zh": name_confidence(name, round(c_name, 4)), "name_en": round(c_en, 4), "birth_date": round(c_birth, 4),
            "sex": round(c_sex, 4), "valid_from": round(c_valid, 4), "valid_until": round(c_valid, 4),
            "issuing_authority": round(c_auth, 4), "permit_number": round(c_num, 4), "issue_count": round(c_count, 4)}
    return fields, conf


def _dates(text: str) -> list[_dt.date]:
    out = []
    for m in re.finditer(r"((?:19|20)\d{2})\D{0,2}?(\d{2})\D{0,2}?(\d{2})", text.translate(_DIGITS)):
        try:
            out.append(_dt.date(*map(int, m.groups())))
        except ValueError:
            pass
    return out


def _validate(fields: TravelPermitFront, *, today: _dt.date | None = None) -> dict[str, Check]:
    today = today or _dt.date.today()
    checks: dict[str, Check] = {}
    if fields.permit_number is not None:
        checks["permit_number_format"] = (passed("The permit number is H/M and 8 digits, or 8 digits.")
                                          if permit_region(fields.permit_number)
                                          else failed("permit_number_malformed", "The permit number has no known form."))
    if fields.valid_from and fields.valid_until:
        checks["validity"] = validity_period(fields.valid_from, fields.valid_until, today, "permit")
        terms = {cn_id._add_years(fields.valid_from, n) for n in (5, 10)}
        checks["validity_term"] = (passed("The validity term is 5 or 10 years.") if fields.valid_until in terms
                                   else failed("validity_term_irregular", "A travel permit is valid for 5 or 10 years."))
    if fields.issuing_authority:
        checks["issuing_authority_known"] = (passed("Issued by an exit-entry administration.")
                                             if authority_ok(fields.issuing_authority)
                                             else failed("issuing_authority_unknown", "The issuing authority is not an exit-entry administration."))
    checks.update(check_name(fields.name_zh))
    missing = [k for k, v in fields.as_dict().items() if v is None and k != "name_en"]
    checks["fields_complete"] = fields_complete(missing)
    return checks


FRONT = Layout(
    type="travel_permit_front",
    title="Mainland travel permit for Hong Kong, Macau or Taiwan residents",
    side="front",
    fields=TravelPermitFront,
    classify=front_score,
    parse=_parse,
    validate=_validate,
    complete=lambda fields, checks: checks["fields_complete"].ok,
    portrait=(0.04, 0.24, 0.31, 0.86),
    labels={"name_zh": "Chinese name", "name_en": "Name (Latin)", "permit_number": "Travel permit number",
            "issue_count": "Times issued"},
)
