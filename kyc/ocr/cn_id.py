"""Chinese resident identity card (second generation): fields from text lines, no images.

Input is the OCR'd text lines of a straightened card (856 x 540 px, see
:mod:`kyc.ocr.geometry`) with their boxes in card coordinates normalised to [0, 1].
The card's layout is fixed by GA 467, so each field is found by its band on the card
and by its printed label (姓名, 性别, 民族, 出生, 住址, 公民身份号码 on the front;
签发机关, 有效期限 on the back), whichever OCR kept.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from kyc.ocr.checks import Check, failed, fields_complete, passed
from kyc.ocr.divisions import authority_division, is_complete, match_division
from kyc.ocr.gb11643 import birth_date_of, normalise_id_number, validate_id_number

__all__ = ["ETHNIC_GROUPS", "TextLine", "group_rows", "classify_side", "front_score", "back_score", "parse_front", "parse_back", "validate_front", "validate_back", "check_address", "check_authority", "WATERMARK"]


@dataclass(frozen=True)
class TextLine:
    """One OCR'd line: text, confidence in [0, 1], box ``(x0, y0, x1, y1)`` as card fractions."""

    text: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


def group_rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines grouped into rows, top to bottom, each row left to right: a line joins the row
    above when their centres are within half its height (the detector often splits a row)."""
    rows: list[list[TextLine]] = []
    for ln in sorted(lines, key=lambda ln: ln.yc):
        if rows and abs(rows[-1][-1].yc - ln.yc) < 0.5 * max(ln.y1 - ln.y0, 1e-6):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [sorted(r, key=lambda ln: ln.x0) for r in rows]


# Overlays such as 复印无效 ("invalid if copied") are written over cards; they are not fields.
WATERMARK = re.compile(r"(复印|仅供|仅限|再次|无效|使用$|专用)")
# The 56 nationalities as printed in the 民族 field (GB/T 3304), longest first for matching.
ETHNIC_GROUPS = tuple(sorted("""汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山
拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克
德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺""".split(), key=len, reverse=True))
_FRONT_KEYS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
_BACK_KEYS = ("中华人民共和国", "居民身份证", "签发机关", "有效期限")
_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8"})
_DATE = r"(\d{4})\D{0,2}?(\d{2})\D{0,2}?(\d{2})"
_VALIDITY = re.compile(_DATE + r"\s*[-—–~一至]+\s*(?:" + _DATE + r"|(长期))")


def _squash(text: str) -> str:
    return re.sub(r"[\s:：]", "", text)


def front_score(lines: list[TextLine]) -> float:
    """How strongly the lines say ID card front: labels found, +2 for an 18-character number."""
    text = "".join(_squash(line.text) for line in lines)
    return float(sum(k in text for k in _FRONT_KEYS) + (2 if normalise_id_number(text) else 0))


def back_score(lines: list[TextLine]) -> float:
    """How strongly the lines say ID card back: labels found, +2 for a validity period."""
    text = "".join(_squash(line.text) for line in lines)
    return float(sum(k in text for k in _BACK_KEYS) + (2 if _VALIDITY.search(text.translate(_DIGITS)) else 0))


def classify_side(lines: list[TextLine]) -> tuple[str | None, float]:
    """``cn_id_front``, ``cn_id_back`` or None, with a score (labels and patterns found)."""
    front, back = front_score(lines), back_score(lines)
    if max(front, back) < 2:
        return None, 0.0
    return ("cn_id_front", front) if front >= back else ("cn_id_back", back)


def _band(lines: list[TextLine], y0: float, y1: float, x_max: float = 1.0) -> list[TextLine]:
    return sorted((ln for ln in lines if y0 <= ln.yc < y1 and ln.x0 < x_max), key=lambda ln: (round(ln.yc * 20), ln.x0))


def _row_text(lines: list[TextLine]) -> str:
    """The lines' text in reading order: rows top to bottom, each row left to right."""
    out = []
    for r in group_rows(lines):
        prev: TextLine | None = None
        for x in r:
            text = x.text
            if prev is not None and prev.x1 > x.x0:  # overlapping boxes: the detector split a line
                a, b = _squash(prev.text), _squash(text)
                for k in (3, 2, 1):
                    if len(b) > k and a.endswith(b[:k]):
                        text = b[k:]
                        break
            out.append(text)
            prev = x
    return "".join(out)


def _strip(text: str, label: str) -> str:
    """``text`` without a leading label, allowing OCR to drop or split its characters."""
    pattern = r"^\s*" + r"\s*".join(map(re.escape, label)) + r"\s*[:：]?"
    out = re.sub(pattern, "", text)
    if out == text and len(label) == 2:
        # One character of a two-character label lost, or misread (注名 for 姓名).
        out = re.sub(r"^\s*(" + re.escape(label[0]) + r"|" + re.escape(label[1]) + r")\s+", "", text)
        if out == text and len(_squash(text)) >= 4:
            out = re.sub(r"^\s*(" + re.escape(label[0]) + r"\S|\S" + re.escape(label[1]) + r")\s*", "", text)
    return out.strip()


def _conf(lines: list[TextLine]) -> float:
    return round(min((ln.score for ln in lines), default=0.0), 4)


def _clean(lines: list[TextLine]) -> list[TextLine]:
    return [ln for ln in lines if _squash(ln.text) and not WATERMARK.search(_squash(ln.text))]


_NUMBER_Y = 0.88  # centre of the number line on the front, card fractions (GA 467 layout)
_NAME_Y = 0.165  # centre of the name line


def _anchor(lines: list[TextLine], number_line: TextLine | None) -> list[TextLine]:
    """Lines with y rescaled so the number and name lines sit where the layout puts them.

    A loose card outline (a glare, perspective, the text-box estimate) shifts and
    stretches the rows; the two lines that are always there pin them back.
    """
    if number_line is None:
        return lines
    top = [ln for ln in lines if ln.yc < number_line.yc - 0.45 and ln.x0 < 0.5]
    if not top:
        return lines
    name_y = min(ln.yc for ln in top)
    span = number_line.yc - name_y
    if span < 0.4:
        return lines
    k = (_NUMBER_Y - _NAME_Y) / span

    def move(y: float) -> float:
        return _NAME_Y + (y - name_y) * k

    return [TextLine(ln.text, ln.score, ln.x0, move(ln.y0), ln.x1, move(ln.y1)) for ln in lines]


def parse_front(lines: list[TextLine]) -> tuple[dict[str, str | None], dict[str, float]]:
    """Front fields and their confidence (the lowest line score that made each)."""
    lines = _clean(lines)
    fields: dict[str, str | None] = {}
    conf: dict[str, float] = {}
    portrait_x = 0.63

    # ID number: the 18-character pattern, preferring the bottom band.
    number_lines = sorted(lines, key=lambda ln: -ln.yc)
    fields["id_number"], conf["id_number"] = None, 0.0
    number_line = None
    for ln in number_lines:
        num = normalise_id_number(ln.text)
        if num:
            fields["id_number"], conf["id_number"] = num, _conf([ln])
            number_line = ln
            break

    lines = _anchor(lines, number_line)
    lines = [ln for ln in lines if not normalise_id_number(ln.text) and _squash(ln.text) not in {"公民身份号码", "公民身份号"}]

    name_lines = [ln for ln in _band(lines, 0.07, 0.22, portrait_x) if _squash(ln.text) not in {"姓名", "姓", "名"}]
    name = _squash(_strip(_row_text(name_lines), "姓名"))
    fields["name"], conf["name"] = (name or None), _conf(name_lines)

    row = _band(lines, 0.22, 0.34, portrait_x)
    row_text = _squash(_row_text(row))
    sex = re.search(r"[男女]", row_text.split("民族")[0]) or re.search(r"[男女]", row_text)
    fields["sex"] = sex.group(0) if sex else None
    conf["sex"] = _conf([ln for ln in row if sex and sex.group(0) in ln.text])
    eth = None
    eth_lines: list[TextLine] = []
    if "民族" in row_text:
        eth = row_text.split("民族", 1)[1]
        eth_lines = [ln for ln in row if "族" in ln.text or ln.x0 > 0.35]
    else:  # label lost: the right-hand part of the row
        right = [ln for ln in row if ln.x0 > 0.3]
        eth = _squash(_row_text(right))
        eth = re.sub(r"^(民|族)", "", eth)
        eth_lines = right
    eth = re.sub(r"[^\u4e00-\u9fff]", "", eth or "")
    # The field holds one of 56 names: a misread label (民政 for 民族) leaves junk before it.
    known = next((g for g in ETHNIC_GROUPS if eth.endswith(g)), None)
    if known is None:  # overlay characters around it (a watermark): the one name read inside
        inside = {g for g in ETHNIC_GROUPS if g in eth}
        inside = {g for g in inside if not any(g != h and g in h for h in inside)}
        known = inside.pop() if len(inside) == 1 else None
    eth = known or eth
    fields["ethnicity"], conf["ethnicity"] = (eth or None), _conf(eth_lines)

    birth_lines = _band(lines, 0.34, 0.46, portrait_x)
    birth_text = _squash(_row_text(birth_lines)).translate(_DIGITS)
    m = re.search(r"((?:19|20)\d{2})\D{0,2}?(\d{1,2})\D{1,2}?(\d{1,2})", birth_text)
    if m is None:  # the 年/月 labels faded out (a watermark pass): the spaces separate the parts
        spaced = " ".join(ln.text for ln in birth_lines).translate(_DIGITS)
        m = re.search(r"((?:19|20)\d{2})\D+(\d{1,2})\D+(\d{1,2})", spaced)
    fields["birth_date"] = None
    if m:
        try:
            fields["birth_date"] = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    if fields["birth_date"] is None and fields["id_number"]:
        # The separators faded out too (年/月 lost and digits run together): the digits
        # read are taken when they spell the number's own birth date.
        digits = re.sub(r"\D", "", birth_text)
        b = birth_date_of(fields["id_number"])
        if b is not None and digits in (f"{b.year}{b.month}{b.day}", f"{b:%Y%m%d}"):
            fields["birth_date"] = b.isoformat()
    conf["birth_date"] = _conf(birth_lines)

    addr_lines = [ln for ln in _band(lines, 0.46, 0.8, portrait_x) if _squash(ln.text) not in {"住址", "住", "址"}]
    address = _squash(_strip(_row_text(addr_lines), "住址"))
    fields["address"], conf["address"] = (address or None), _conf(addr_lines)
    order = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
    return {k: fields[k] for k in order}, {k: conf[k] for k in order}


def _iso(y: str, m: str, d: str) -> str | None:
    try:
        return _dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def parse_back(lines: list[TextLine]) -> tuple[dict[str, str | None], dict[str, float]]:
    """Back fields (``valid_until`` None for 长期, with ``long_term`` "true") and confidences."""
    lines = _clean(lines)
    fields: dict[str, str | None] = {"issuing_authority": None, "valid_from": None, "valid_until": None, "long_term": None}
    conf: dict[str, float] = {"issuing_authority": 0.0, "valid_from": 0.0, "valid_until": 0.0}
    auth = [ln for ln in lines if "签发" in ln.text or "机关" in ln.text]
    if auth:
        row = _band(lines, auth[0].y0 - 0.02, auth[0].y1 + 0.02)
    else:
        row = [ln for ln in _band(lines, 0.64, 0.82) if ln.x0 > 0.25]
    text = _squash(_row_text(row))
    text = re.sub(r"^.*?(签发机关|机关)", "", text) if ("签发" in text or "机关" in text) else text
    fields["issuing_authority"] = text or None
    conf["issuing_authority"] = _conf([ln for ln in row if _squash(ln.text) not in {"签发机关"}])

    valid = [ln for ln in lines if "有效" in ln.text or "期限" in ln.text]
    row = _band(lines, valid[0].y0 - 0.02, valid[0].y1 + 0.02) if valid else _band(lines, 0.8, 0.98)
    vt = _squash(_row_text(row)).translate(_DIGITS)
    m = _VALIDITY.search(vt)
    if m:
        fields["valid_from"] = _iso(*m.group(1, 2, 3))
        if m.group(7):
            fields["valid_until"], fields["long_term"] = None, "true"
        else:
            fields["valid_until"], fields["long_term"] = _iso(*m.group(4, 5, 6)), "false"
        c = _conf([ln for ln in row if re.search(r"\d", ln.text)])
        conf["valid_from"] = conf["valid_until"] = c
    return fields, conf


def validate_front(fields: dict[str, str | None], *, today: _dt.date | None = None) -> dict[str, Check]:
    """GB 11643 checks of the number, and the printed birth date and sex against it."""
    checks = validate_id_number(fields.get("id_number"), printed_birth_date=fields.get("birth_date"),
                                printed_sex=fields.get("sex"), today=today)
    eth = fields.get("ethnicity")
    if eth:
        checks["ethnicity_known"] = (passed("The ethnicity is one of the 56 recognised nationalities.") if eth in ETHNIC_GROUPS
                                     else failed("ethnicity_unknown", "The ethnicity is not one of the 56 recognised nationalities."))
    checks.update(check_address(fields.get("address"), fields.get("id_number")))
    missing = [k for k in ("name", "sex", "ethnicity", "birth_date", "address", "id_number") if not fields.get(k)]
    checks["fields_complete"] = fields_complete(missing, "Every front field was read.")
    return checks


def check_address(address: str | None, id_number: str | None) -> dict[str, Check]:
    """The address starts with a GB/T 2260 division down to the county, and that division
    against the ID number's region code.

    A different region is normal (the code is where the number was first issued, and
    people move), so ``address_region_mismatch`` is a passed check carrying a reason
    code: reported, never a failure.
    """
    if not address:
        return {}
    div = match_division(address, max_changes=0)
    if div is None or not is_complete(div):
        return {"address_division": failed("address_division_unknown",
                                           "The address does not start with a known province, city and county.")}
    out = {"address_division": passed("The address starts with a known province, city and county.")}
    if id_number and len(id_number) == 18:
        if id_number[:6] in div.codes:
            out["address_region"] = passed("The address is in the region of the ID number.")
        else:
            out["address_region"] = Check(True, "address_region_mismatch",
                                          "The address is not in the region the ID number was issued in (people move).")
    return out


def check_authority(authority: str | None) -> dict[str, Check]:
    """The issuing authority names a known division's public security bureau
    (``XX市XX县公安局``, ``XX市公安局XX分局``)."""
    if not authority:
        return {}
    div, _ = authority_division(authority, max_changes=0)
    if div is None:
        return {"issuing_authority_division": failed("issuing_authority_unknown",
                                                     "The issuing authority is not a known division's public security bureau.")}
    return {"issuing_authority_division": passed("The issuing authority is a known division's public security bureau.")}


def _add_years(d: _dt.date, years: int) -> _dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def validate_back(fields: dict[str, str | None], *, today: _dt.date | None = None) -> dict[str, Check]:
    """The validity period against ``today`` and against the 5/10/20-year or 长期 terms."""
    today = today or _dt.date.today()
    checks: dict[str, Check] = check_authority(fields.get("issuing_authority"))
    start = fields.get("valid_from")
    end = fields.get("valid_until")
    long_term = fields.get("long_term") == "true"
    if start is None or (end is None and not long_term):
        checks["validity"] = failed("validity_unreadable", "The validity period could not be read.")
        return checks
    s = _dt.date.fromisoformat(start)
    if s > today:
        checks["validity"] = failed("document_not_yet_valid", "The card's validity period has not started.")
    elif end is not None and _dt.date.fromisoformat(end) < today:
        checks["validity"] = failed("document_expired", "The card has expired.")
    else:
        checks["validity"] = passed("The card is within its validity period" + (" (长期, no end date)." if long_term else "."))
    if end is not None:
        e = _dt.date.fromisoformat(end)
        if any(_add_years(s, n) == e for n in (5, 10, 20)):
            checks["validity_term"] = passed("The validity term is 5, 10 or 20 years.")
        else:
            checks["validity_term"] = failed("validity_term_irregular", "The validity term is not 5, 10 or 20 years.")
    return checks
