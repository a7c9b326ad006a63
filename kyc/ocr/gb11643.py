"""GB 11643-1999 citizen identity numbers: parsing and validation, no images.

An 18-character number is ``RRRRRR YYYYMMDD SSS C``: the region code (GB/T 2260
administrative division of first registration), the birth date, a sequence number
whose parity gives the sex (odd = male), and an ISO 7064 MOD 11-2 check character
(``0-9`` or ``X`` for 10).

The region table is the one shipped and kept up to date by ``python-stdnum``
(``stdnum/cn/loc.dat``, with the years each code was in use); we do not keep a copy.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache

from kyc.ocr.checks import Check, failed, passed

__all__ = [
    "check_character",
    "normalise_id_number",
    "region_name",
    "region_codes",
    "birth_date_of",
    "sex_of",
    "validate_id_number",
]

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2

# OCR confusions seen on the printed number, mapped to the digit they stand for.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1",
                                   "i": "1", "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "G": "6",
                                   "b": "6", "g": "9", "q": "9", "T": "7"})


def check_character(body17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(body17) != 17 or not body17.isdigit():
        raise ValueError("the body of an identity number is 17 digits")
    total = sum(int(d) * w for d, w in zip(body17, _WEIGHTS))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def normalise_id_number(text: str) -> str | None:
    """The identity number in OCR output, with letter/digit confusions fixed by position.

    Spaces and punctuation are dropped; in the first 17 positions a letter that looks
    like a digit becomes that digit; in the last, ``x`` or ``×`` becomes ``X``.
    Returns None when no 18-character candidate is there.
    """
    compact = re.sub(r"[\s\-_.,:;'\"`·]", "", text)
    compact = compact.replace("×", "X").replace("✕", "X")
    for m in re.finditer(r"[0-9OoDQIl|iZzSsBGbgqT]{17}[0-9Xx]", compact):
        cand = m.group(0)
        body = cand[:17].translate(_DIGIT_LOOKALIKES)
        if body.isdigit():
            return body + cand[17].upper()
    return None


@lru_cache(maxsize=1)
def _region_db():
    from stdnum import numdb

    return numdb.get("cn/loc")


def _region_entry(code: str, year: int | None) -> tuple[str, str] | None:
    """(province, county) for a 6-digit code in use in ``year`` (any year when None)."""
    if len(code) != 6 or not code.isdigit():
        return None
    info: dict[str, str] = {}
    for _part, props in _region_db().info(code):
        info.update(props)
    if "county" not in info or "province" not in info:
        return None
    fallback = None
    for county in info["county"].split(","):
        if not county.startswith("["):
            return info["province"], county
        span, name = county[1:].split("]", 1)
        start, end = span.split("-")
        if year is None:
            if not end:
                return info["province"], name  # the name in use today
            fallback = fallback or (info["province"], name)
        elif (not start or year >= int(start)) and (not end or year <= int(end)):
            return info["province"], name
    return fallback


def region_name(code: str, year: int | None = None) -> str | None:
    """The division's name (province + county) for a 6-digit code, or None if unknown."""
    entry = _region_entry(code, year)
    return None if entry is None else entry[0] + (entry[1] if entry[1] != entry[0] else "")


@lru_cache(maxsize=1)
def region_codes() -> tuple[tuple[str, str], ...]:
    """Every county-level code in use today as ``(code, address prefix)``, for test data.

    The prefix is province + prefecture + county as printed on a card's address line.
    """
    from pathlib import Path

    from stdnum.cn import ric

    def current(names: str) -> str | None:
        for name in names.split(","):
            m = re.fullmatch(r"(?:\[(\d*)-(\d*)\])?(.+)", name)
            if m and not m.group(2):
                return m.group(3)
        return None

    path = Path(ric.__file__).with_name("loc.dat")
    out: list[tuple[str, str]] = []
    province, prov_code, prefecture = "", "", ""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^(\d{2}) province="([^"]+)"', line)
        if m:
            prov_code, province, prefecture = m.group(1), m.group(2), ""
            continue
        m = re.match(r'^\s+(\d{4}) county="([^"]+)"', line)
        if not (m and prov_code):
            continue
        sub, name = m.group(1), current(m.group(2))
        if sub.endswith("00"):
            prefecture = name or ""
            if prefecture in {"市辖区", "县", province}:
                prefecture = ""
            continue
        if name is None or name in {"市辖区", "县"} or len(name) < 2:
            continue
        out.append((prov_code + sub, province + prefecture + name))
    return tuple(out)


def birth_date_of(number: str) -> _dt.date | None:
    try:
        return _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def sex_of(number: str) -> str:
    """``男`` (odd sequence number) or ``女`` (even)."""
    return "男" if int(number[16]) % 2 == 1 else "女"


def validate_id_number(
    number: str | None,
    *,
    printed_birth_date: str | None = None,
    printed_sex: str | None = None,
    today: _dt.date | None = None,
) -> dict[str, Check]:
    """Every check on an identity number, by name; failures carry a reason code.

    ``printed_birth_date`` is ``YYYY-MM-DD`` as read from the card, ``printed_sex``
    ``男``/``女``; each is compared only when given.
    """
    checks: dict[str, Check] = {}
    if number is None or not re.fullmatch(r"\d{17}[\dX]", number):
        checks["id_number_format"] = failed("id_number_malformed", "The ID number is not 17 digits and a check character.")
        return checks
    checks["id_number_format"] = passed("The ID number has 18 characters.")
    if check_character(number[:17]) == number[17]:
        checks["id_number_check_digit"] = passed("The ISO 7064 MOD 11-2 check character matches.")
    else:
        checks["id_number_check_digit"] = failed("id_number_check_digit", "The ID number's check character does not match (GB 11643).")
    born = birth_date_of(number)
    today = today or _dt.date.today()
    if born is None or born > today or born.year < 1880:
        checks["id_number_birth_date"] = failed("id_number_birth_date_invalid", "The birth date in the ID number is not a valid date.")
    elif printed_birth_date is not None and born.isoformat() != printed_birth_date:
        checks["id_number_birth_date"] = failed("birth_date_mismatch", "The birth date in the ID number differs from the printed one.")
    else:
        checks["id_number_birth_date"] = passed("The birth date in the ID number is valid" + (" and matches the printed one." if printed_birth_date else "."))
    # The code is that of the residence when the number was assigned (often years after
    # birth, e.g. the 1999 reissue), so any period in which the code existed is accepted.
    if _region_entry(number[:6], None) is not None:
        checks["id_number_region"] = passed("The region code is a GB/T 2260 administrative division.")
    else:
        checks["id_number_region"] = failed("region_code_unknown", "The region code is not a GB/T 2260 administrative division.")
    if printed_sex is not None:
        if printed_sex == sex_of(number):
            checks["id_number_sex"] = passed("The sex in the ID number matches the printed one.")
        else:
            checks["id_number_sex"] = failed("sex_mismatch", "The sex in the ID number differs from the printed one.")
    return checks
