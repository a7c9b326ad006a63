"""Foreigner's permanent residence ID card, 2023 version (外国人永久居留身份证), front.

The 18-character number is ``9 PP NNN YYYYMMDD SSS C``: 9, the province-level code of
the issuing place (GB/T 2260), the nationality's ISO 3166-1 numeric code, the birth
date, a sequence whose parity gives the sex (odd = male) and the ISO 7064 MOD 11-2
check character of GB 11643. Rows are labelled in Chinese and English
(``姓名/Name``, ``性别/Sex``, ``出生日期/Date of Birth``, ``国籍/Nationality``,
``有效期限/Period of Validity``, ``证件号码/Card No.``); the name is in Latin letters,
with a Chinese name on the line below where the holder has one.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import ClassVar

from kyc.ocr import cn_id
from kyc.ocr.checks import Check, failed, fields_complete, validity_period, passed
from kyc.ocr.cn_id import TextLine, group_rows
from kyc.ocr.gb11643 import check_character, region_name
from kyc.ocr.layouts._base import DocumentFields, Layout

__all__ = ["ForeignPrFront", "FRONT", "validate_pr_number", "pr_number"]

_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8"})
_LABELS = {  # field: patterns of its label (Chinese or English, OCR may keep either)
    "name_en": r"姓名|Name",
    "sex": r"性别|Sex",
    "birth_date": r"出生日期|Date\s*of\s*Birth|Birth",
    "nationality": r"国籍|Nationality",
    "validity": r"有效期限|Period\s*of\s*Validity|Validity",
    "id_number": r"证件号码|Card\s*No\.?",
}


@dataclass(frozen=True)
class ForeignPrFront(DocumentFields):
    name_en: str | None
    name_zh: str | None
    sex: str | None
    birth_date: _dt.date | None
    nationality: str | None
    valid_from: _dt.date | None
    valid_until: _dt.date | None
    id_number: str | None

    COMMON: ClassVar = {"name": "name_en"}

    def common(self) -> dict[str, str | None]:
        out = super().common()
        if self.name_zh:
            out["name"] = self.name_zh
        return out


def pr_number(text: str) -> str | None:
    """A 9-led 18-character number in OCR text (letter/digit confusions fixed)."""
    compact = re.sub(r"[\s\-_.,:;·]", "", text).translate(_DIGITS).replace("x", "X")
    m = re.search(r"9\d{16}[\dX]", compact)
    return m.group(0) if m else None


def validate_pr_number(number: str | None, *, birth_date: _dt.date | None = None, sex: str | None = None,
                       today: _dt.date | None = None) -> dict[str, Check]:
    checks: dict[str, Check] = {}
    if number is None or not re.fullmatch(r"9\d{16}[\dX]", number):
        return {"id_number_format": failed("id_number_malformed", "The card number is not 9 and 16 digits and a check character.")}
    checks["id_number_format"] = passed("The card number has 18 characters and starts with 9.")
    checks["id_number_check_digit"] = (passed("The ISO 7064 MOD 11-2 check character matches.")
                                       if check_character(number[:17]) == number[17]
                                       else failed("id_number_check_digit", "The card number's check character does not match."))
    checks["id_number_region"] = (passed("The issuing province is a GB/T 2260 province.") if region_name(number[1:3] + "0000")
                                  else failed("region_code_unknown", "The issuing province code is not a GB/T 2260 province."))
    try:
        born = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    today = today or _dt.date.today()
    if born is None or born > today:
        checks["id_number_birth_date"] = failed("id_number_birth_date_invalid", "The birth date in the card number is not valid.")
    elif birth_date is not None and born != birth_date:
        checks["id_number_birth_date"] = failed("birth_date_mismatch", "The birth date in the card number differs from the printed one.")
    else:
        checks["id_number_birth_date"] = passed("The birth date in the card number is valid.")
    if sex is not None:
        coded = "M" if int(number[16]) % 2 == 1 else "F"
        checks["id_number_sex"] = (passed("The sex in the card number matches the printed one.") if coded == sex
                                   else failed("sex_mismatch", "The sex in the card number differs from the printed one."))
    return checks


def front_score(lines: list[TextLine]) -> float:
    text = "".join(re.sub(r"\s", "", ln.text) for ln in lines)
    # The title may fade with a watermark pass (it is printed in red): the bilingual
    # labels and the 9-led number alone must still outscore the ID card front's labels.
    score = (3.0 * ("永久居留" in text) + 1.0 * ("PermanentResident" in text)
             + 2.0 * ("国籍" in text or "Nationality" in text) + 2.0 * ("证件号码" in text or "CardNo" in text))
    return score + (2.0 if pr_number(text) else 0.0) if score else 0.0


def _strip_label(text: str, field: str) -> str:
    out = re.sub(r"(" + _LABELS[field] + r"|/|:|：)", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", out).strip()


def _date(text: str) -> list[_dt.date]:
    out = []
    for m in re.finditer(r"((?:19|20)\d{2})\D{0,2}?(\d{2})\D{0,2}?(\d{2})", text.translate(_DIGITS)):
        try:
            out.append(_dt.date(*map(int, m.groups())))
        except ValueError:
            pass
    return out


def _parse(lines: list[TextLine]) -> tuple[ForeignPrFront, dict[str, float]]:
    lines = [ln for ln in lines if ln.text.strip() and not cn_id.WATERMARK.search(re.sub(r"\s", "", ln.text))]
    rows = group_rows(lines)
    values: dict[str, tuple[str, float]] = {}
    name_row = None
    for i, r in enumerate(rows):
        text = " ".join(x.text for x in r)
        for field, pattern in _LABELS.items():
            if field not in values and re.search(pattern, text, flags=re.IGNORECASE):
                values[field] = (_strip_label(text, field), min(x.score for x in r))
                if field == "name_en":
                    name_row = i
                break
    name_en = values.get("name_en", ("", 0.0))[0]
    name_en = re.sub(r"[^A-Z ,\-']", "", name_en.upper()).strip(" ,") or None
    if name_en:  # printed "SURNAME, GIVEN": OCR often drops the space after the comma
        name_en = re.sub(r"\s*,\s*", ", ", re.sub(r"\s+", " ", name_en))
    name_zh, zh_conf = None, 0.0
    if name_row is not None and name_row + 1 < len(rows):
        below = "".join(x.text for x in rows[name_row + 1])
        if re.fullmatch(r"[\u4e00-\u9fff·]{2,12}", re.sub(r"\s", "", below)):
            name_zh, zh_conf = re.sub(r"\s", "", below), min(x.score for x in rows[name_row + 1])
    sex_text = values.get("sex", ("", 0.0))[0]
    sex = "M" if re.search(r"男|\bM\b", sex_text) else "F" if re.search(r"女|\bF\b", sex_text) else None
    births = _date(values.get("birth_date", ("", 0.0))[0])
    nat = re.search(r"(?<![A-Z])([A-Z]{3})(?![A-Z])", values.get("nationality", ("", 0.0))[0].upper())
    period = _date(values.get("validity", ("", 0.0))[0])
    number = pr_number(values.get("id_number", ("", 0.0))[0]) or pr_number(" ".join(ln.text for ln in lines))
    fields = ForeignPrFront(name_en, name_zh, sex, births[0] if births else None, nat.group(1) if nat else None,
                            period[0] if len(period) >= 2 else None, period[1] if len(period) >= 2 else None, number)
    conf = {k: round(values.get(k, ("", 0.0))[1], 4) for k in ("name_en", "sex", "birth_date", "nationality", "id_number")}
    conf["name_zh"] = round(zh_conf, 4)
    conf["valid_from"] = conf["valid_until"] = round(values.get("validity", ("", 0.0))[1], 4)
    return fields, conf


def _validate(fields: ForeignPrFront, *, today: _dt.date | None = None) -> dict[str, Check]:
    today = today or _dt.date.today()
    checks = validate_pr_number(fields.id_number, birth_date=fields.birth_date, sex=fields.sex, today=today)
    if fields.valid_from and fields.valid_until:
        checks["validity"] = validity_period(fields.valid_from, fields.valid_until, today, "card")
    missing = [k for k, v in fields.as_dict().items() if v is None and k != "name_zh"]
    checks["fields_complete"] = fields_complete(missing)
    return checks


FRONT = Layout(
    type="foreign_pr_front",
    title="Foreigner's permanent residence ID card (2023, front)",
    side="front",
    fields=ForeignPrFront,
    classify=front_score,
    parse=_parse,
    validate=_validate,
    complete=lambda fields, checks: checks["fields_complete"].ok,
    portrait=(0.71, 0.22, 0.97, 0.74),
    labels={"name_en": "Name (Latin)", "name_zh": "Chinese name"},
)
