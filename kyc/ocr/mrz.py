"""ICAO 9303 machine readable zones: TD1, TD2, TD3, MRV-A and MRV-B, no images.

Parsing works on text lines as an OCR engine returns them. Each field has a
character class (letters, digits, or both), so the usual OCR confusions are fixed
by position: in a digit field ``O`` is ``0`` and ``B`` is ``8``, in a letter field
``0`` is ``O`` and ``8`` is ``B``. Fields that may hold either (document number,
optional data) are left as read and their check digit decides. We do not swap
look-alikes there until a check digit holds: the composite digit weighs those fields
in the same phase, so it cannot tell a true repair from a masked misreading.

Every check digit is verified (7-3-1 weights, ``<`` = 0, ``A`` = 10 ...), including
the composite one of TD1, TD2 and TD3; a failure is a :class:`~kyc.ocr.checks.Check`
with a reason code.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

from kyc.ocr.checks import Check, failed, passed

__all__ = [
    "MrzReading",
    "FORMATS",
    "check_digit",
    "clean_line",
    "find_mrz_lines",
    "parse_mrz",
    "best_mrz",
]

# (document type, lines, line length)
FORMATS = {"mrz_td1": (3, 30), "mrz_td2": (2, 36), "passport_td3": (2, 44), "visa_mrva": (2, 44), "visa_mrvb": (2, 36)}

_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "7", "Z": "2",
                           "S": "5", "B": "8", "G": "6", "A": "4"})
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"})


def _value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    return 0  # '<' and anything else


def check_digit(data: str) -> str:
    """The ICAO 9303 check digit of ``data`` (weights 7, 3, 1 repeating)."""
    return str(sum(_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(data)) % 10)


def clean_line(text: str) -> str:
    """An OCR'd line reduced to the MRZ alphabet ``A-Z 0-9 <``.

    Filler look-alikes (``«``, ``‹``, ``く``, ``(`` ...) become ``<``; spaces go.
    """
    t = text.upper().replace("«", "<<").replace("》", "<<").replace("《", "<<")
    t = re.sub(r"[‹くぐ(\[{〈＜⟨]", "<", t)
    t = re.sub(r"\s+", "", t)
    return re.sub(r"[^A-Z0-9<]", "", t)


def _fit(line: str, length: int) -> str:
    """Pad or trim a line to ``length`` at its longest run of fillers (where OCR slips)."""
    if len(line) == length:
        return line
    runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer(r"<+", line)]
    if len(line) < length:
        if runs:
            _, start, end = max(runs)
            return line[:end] + "<" * (length - len(line)) + line[end:]
        return line + "<" * (length - len(line))
    excess = len(line) - length
    if runs:
        n, start, end = max(runs)
        if n > excess:
            return line[: end - excess] + line[end:]
    return line[:length]


def find_mrz_lines(texts: list[str]) -> list[str]:
    """The MRZ lines among OCR'd text lines (top to bottom), cleaned; [] if none.

    A line belongs to the zone when, cleaned, it is at least 25 characters of the
    MRZ alphabet with fillers or digits in it.
    """
    out: list[str] = []
    for t in texts:
        c = clean_line(t)
        raw = re.sub(r"\s+", "", t)
        if len(c) >= 25 and len(c) >= 0.85 * len(raw) and ("<" in c or sum(ch.isdigit() for ch in c) >= 8):
            out.append(c)
    return out


@dataclass
class MrzReading:
    type: str
    lines: list[str]
    fields: dict[str, str | None]
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return all(c.ok for name, c in self.checks.items() if name.endswith("_check_digit"))


def _detect_type(lines: list[str]) -> str | None:
    if len(lines) >= 3 and all(len(x) >= 26 for x in lines[:3]) and max(len(x) for x in lines[:3]) <= 34:
        return "mrz_td1"
    if len(lines) < 2:
        return None
    n = max(len(lines[0]), len(lines[1]))
    first = lines[0][:1]
    if n >= 40:
        return "visa_mrva" if first == "V" else "passport_td3"
    return "visa_mrvb" if first == "V" else "mrz_td2"


def _digits(s: str) -> str:
    return s.translate(_TO_DIGIT)


def _alpha(s: str) -> str:
    return s.translate(_TO_ALPHA)


def _name(s: str) -> tuple[str, str]:
    s = _alpha(s)
    i = s.find("<<<")  # after the name only fillers follow: OCR'd K/C there are fillers
    if i >= 0:
        s = s[:i]
    s = s.strip("<")
    surname, _, given = s.partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _date(yymmdd: str, *, birth: bool, today: _dt.date) -> str | None:
    if not yymmdd.isdigit():
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if birth:
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    else:
        year = 2000 + yy if 2000 + yy <= today.year + 50 else 1900 + yy
    try:
        return _dt.date(year, mm, dd).isoformat()
    except ValueError:
        return None


def _cd(checks: dict[str, Check], name: str, data: str, digit: str, *, optional: bool = False) -> None:
    if optional and digit == "<" and set(data) <= {"<"}:
        checks[name] = passed(f"{name.replace('_', ' ')}: empty field, no check digit.")
    elif digit.isdigit() and check_digit(data) == digit:
        checks[name] = passed(f"{name.replace('_', ' ')} matches.")
    else:
        checks[name] = failed(name, f"The {name.replace('_', ' ')} does not match (ICAO 9303).")


def parse_mrz(lines: list[str], *, today: _dt.date | None = None) -> MrzReading | None:
    """Parse cleaned MRZ lines (see :func:`clean_line`); None when no format fits."""
    today = today or _dt.date.today()
    lines = [clean_line(x) for x in lines if clean_line(x)]
    kind = _detect_type(lines)
    if kind is None:
        return None
    n_lines, length = FORMATS[kind]
    lines = [_fit(x, length) for x in lines[-n_lines:]] if kind != "mrz_td1" else [_fit(x, length) for x in lines[:3]]
    f: dict[str, str | None] = {}
    checks: dict[str, Check] = {}
    if kind == "mrz_td1":
        l1, l2, l3 = lines
        l1 = _alpha(l1[0]) + l1[1] + _alpha(l1[2:5]) + l1[5:14] + _digits(l1[14]) + l1[15:]
        l2 = (_digits(l2[:7]) + l2[7] + _digits(l2[8:15]) + _alpha(l2[15:18]) + l2[18:29] + _digits(l2[29]))
        lines = [l1, l2, l3]
        number, number_cd, opt1 = l1[5:14], l1[14], l1[15:30]
        # A document number longer than 9 characters continues in the optional data.
        if number_cd == "<" and opt1.strip("<"):
            ext = opt1.split("<", 1)[0]
            number, number_cd = number + ext[:-1], ext[-1:]
        f.update(document_code=l1[:2].strip("<"), issuing_country=l1[2:5].strip("<"), document_number=number.strip("<").replace("<", ""),
                 optional_data=opt1.strip("<") or None, birth_date=_date(l2[:6], birth=True, today=today), sex=_sex(l2[7]),
                 expiry_date=_date(l2[8:14], birth=False, today=today), nationality=l2[15:18].strip("<"),
                 optional_data_2=l2[18:29].strip("<") or None)
        f["surname"], f["given_names"] = _name(l3)
        _cd(checks, "document_number_check_digit", number, number_cd)
        _cd(checks, "birth_date_check_digit", l2[:6], l2[6])
        _cd(checks, "expiry_date_check_digit", l2[8:14], l2[14])
        _cd(checks, "composite_check_digit", l1[5:30] + l2[:7] + l2[8:15] + l2[18:29], l2[29])
    else:
        l1, l2 = lines
        l1 = _alpha(l1[0]) + l1[1] + _alpha(l1[2:5]) + l1[5:]
        opt_end = length - 2 if kind in {"passport_td3", "mrz_td2"} else length
        l2 = (l2[:9] + _digits(l2[9]) + _alpha(l2[10:13]) + _digits(l2[13:20]) + l2[20] + _digits(l2[21:28])
              + l2[28:opt_end] + _digits(l2[opt_end:]))
        lines = [l1, l2]
        f.update(document_code=l1[:2].strip("<"), issuing_country=l1[2:5].strip("<"), document_number=l2[:9].strip("<"),
                 nationality=l2[10:13].strip("<"), birth_date=_date(l2[13:19], birth=True, today=today), sex=_sex(l2[20]),
                 expiry_date=_date(l2[21:27], birth=False, today=today))
        f["surname"], f["given_names"] = _name(l1[5:])
        _cd(checks, "document_number_check_digit", l2[:9], l2[9])
        _cd(checks, "birth_date_check_digit", l2[13:19], l2[19])
        _cd(checks, "expiry_date_check_digit", l2[21:27], l2[27])
        if kind == "passport_td3":
            f["personal_number"] = l2[28:42].strip("<") or None
            _cd(checks, "personal_number_check_digit", l2[28:42], l2[42], optional=True)
            _cd(checks, "composite_check_digit", l2[:10] + l2[13:20] + l2[21:43], l2[43])
        elif kind == "mrz_td2":
            f["optional_data"] = l2[28:35].strip("<") or None
            _cd(checks, "composite_check_digit", l2[:10] + l2[13:20] + l2[21:35], l2[35])
        else:
            f["optional_data"] = l2[28:].strip("<") or None
    for name, key in (("birth_date_valid", "birth_date"), ("expiry_date_valid", "expiry_date")):
        if f.get(key) is None:
            checks[name] = failed(f"{key}_invalid", f"The {key.replace('_', ' ')} is not a valid date.")
    expiry = f.get("expiry_date")
    if expiry is not None:
        if _dt.date.fromisoformat(expiry) < today:
            checks["validity"] = failed("document_expired", "The document has expired.")
        else:
            checks["validity"] = passed("The document has not expired.")
    return MrzReading(type=kind, lines=lines, fields=f, checks=checks)


def _sex(c: str) -> str | None:
    return {"M": "M", "F": "F", "X": "X"}.get(c)


def _structure(reading: MrzReading) -> int:
    """How much the zone looks like its format beyond the check digits (0-4)."""
    first = reading.lines[0]
    score = 0
    if first[:1] in "PIACV":
        score += 1
    if re.fullmatch(r"[A-Z<]{3}", first[2:5]) and first[2:5].strip("<"):
        score += 1
    name_line = reading.lines[2] if reading.type == "mrz_td1" else first[5:]
    if "<<" in name_line and re.fullmatch(r"[A-Z<]+", name_line):
        score += 1
    if reading.fields.get("sex") is not None:
        score += 1
    return score


def best_mrz(rows: list[str], *, today: _dt.date | None = None) -> MrzReading | None:
    """The most plausible zone among OCR'd rows (any order, other text mixed in).

    Each window of 2 or 3 candidate lines is parsed in every order; the reading with the
    most check digits that hold, then the most format features, wins. Nothing is
    altered to make a check digit hold: the lines are only chosen and ordered.
    """
    from itertools import permutations

    cand = find_mrz_lines(rows)
    best: tuple[tuple[int, int], MrzReading] | None = None
    for size in (2, 3):
        for i in range(0, len(cand) - size + 1):
            window = cand[i : i + size]
            lengths = [len(x) for x in window]
            if size == 3 and not all(26 <= n <= 34 for n in lengths):
                continue
            if size == 2 and (max(lengths) - min(lengths) > 6 or min(lengths) < 30):
                continue
            for order in permutations(window):
                reading = parse_mrz(list(order), today=today)
                if reading is None:
                    continue
                digits = [c.ok for k, c in reading.checks.items() if k.endswith("_check_digit")]
                key = (sum(digits) - (len(digits) - sum(digits)), _structure(reading))
                if best is None or key > best[0]:
                    best = (key, reading)
    return None if best is None else best[1]
