"""GB/T 2260 administrative divisions: checking and correcting the division part of an
address or an issuing authority. Pure text, no images.

The table is ``python-stdnum``'s ``stdnum/cn/loc.dat`` (every code with the names it
has had and the years of each), the same one the ID number's region check uses. A card
printed years ago carries the names of its time, so former names count too.

Correction is deliberately narrow: a character of the division part may be replaced
only by one that looks like it (:data:`LOOKALIKES`, pairs seen confused by OCR), at
most two per address, and only when that turns the start of the text into a known
division. Nothing that was not read is ever added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path

__all__ = ["Division", "LOOKALIKES", "match_division", "correct_division", "authority_division", "divisions", "is_complete"]

# Groups of CJK characters that look alike in print (OCR confuses them, and a watermark
# stroke across one often turns it into another).
_GROUPS = """己已巳 土士 末未 日曰 人入八 大太犬 天夭 王玉主 白自 田由甲申 贝见 力刀 干千于 午牛 石右
州川洲 江汪 沪护 宁宇 阳阴 广厂 县具 市巾 区匹 西酉 治冶 汉汊 兴舆 乌鸟 侯候 延廷 徽微 淮准 泽译
潍维 渭谓 盘盆 宾滨 凤风 峰锋 岭领 曾會 鄂鹗 彝彜 镇填 乡多 村材 街衔 路略 号亏 栋标 室堂 单早 元无
安案 宜宣 昌冒 营菅 建健 庆庚 青春 清情 济挤 沧沦 杭抗 湖胡 海梅 温湿 福幅 漳樟 泉录 汕仙 邵召
桂挂 柳枊 梧悟 黔点 滇真 蒙豪 藏臧 疆僵 喀略 尔尓 勒靳 齐齊 哈蛤 旗棋 盟盥 壁璧 新亲 郑邦 洛络
开升 封卦 焦集 鹤鸽 濮噗 许浒 漯溧 商啇 信言 驻注 襄囊 随隋 荆荊 孝考 咸成 恩思 施旋 岳缶 常掌
衡衝 株侏 湘相 娄类 怀杯 汝妆 贡页 萍苹 赣韶 抚扰 饶绕 吉古 余佘 宿缩 亳毫 蚌蜂 芜无 铜桐 池地
滁除 莆甫 厦夏 龙尤 漠汉 肇肇 茂芪 梅悔 潮朝 揭锡 珠株 佛沸 莞荒 琼凉 儋檐 渝喻 涪培 綦綮 璧壁"""
LOOKALIKES: dict[str, frozenset[str]] = {}
for _g in _GROUPS.split():
    for _c in _g:
        LOOKALIKES[_c] = LOOKALIKES.get(_c, frozenset()) | frozenset(_g) - {_c}

_SUFFIXES = ("省", "市", "自治区", "特别行政区")


@dataclass(frozen=True)
class Division:
    """A division name as printed at the start of an address (province, prefecture,
    county), with every 6-digit code that name has stood for."""

    text: str
    codes: frozenset[str]


def _names(field: str) -> list[str]:
    """Every name a ``county="[1982-1999]昌平县,..."`` entry has had."""
    out = []
    for part in field.split(","):
        m = re.fullmatch(r"(?:\[\d*-\d*\])?(.+)", part)
        if m:
            out.append(m.group(1))
    return out


@lru_cache(maxsize=1)
def divisions() -> dict[str, frozenset[str]]:
    """Address prefix -> codes: ``province``, ``province+prefecture``,
    ``province+prefecture+county`` and ``province+county`` (municipalities and
    province-administered counties), former names included."""
    from stdnum.cn import ric

    path = Path(ric.__file__).with_name("loc.dat")
    table: dict[str, set[str]] = {}

    def add(text: str, code: str) -> None:
        if len(text) >= 2:
            table.setdefault(text, set()).add(code)

    provinces: list[str] = []
    prov_code = ""
    prefectures: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r'^(\d{2}) province="([^"]+)"', line)
        if m:
            prov_code, provinces, prefectures = m.group(1), _names(m.group(2)), []
            for p in provinces:
                add(p, prov_code + "0000")
            continue
        m = re.match(r'^\s+(\d{4}) county="([^"]+)"', line)
        if not (m and prov_code):
            continue
        code = prov_code + m.group(1)
        names = [n for n in _names(m.group(2)) if n not in {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}]
        if m.group(1).endswith("00"):
            prefectures = [n for n in names if n not in provinces]
            for p in provinces:
                for pref in prefectures:
                    add(p + pref, code)
            continue
        for p in provinces:
            for n in names:
                add(p + n, code)
                for pref in prefectures:
                    add(p + pref + n, code)
    return {k: frozenset(v) for k, v in table.items()}


@lru_cache(maxsize=1)
def _county_names() -> dict[str, frozenset[str]]:
    """Prefecture and county names without the province (how authorities are printed)."""
    out: dict[str, set[str]] = {}
    table = divisions()
    provinces = {k for k, v in table.items() if all(c.endswith("0000") for c in v)}
    for text, codes in table.items():
        for p in provinces:
            if text.startswith(p) and len(text) > len(p):
                out.setdefault(text[len(p):], set()).update(codes)
    return {k: frozenset(v) for k, v in out.items()}


def _longest(text: str, table: dict[str, frozenset[str]], max_len: int = 40) -> Division | None:
    for n in range(min(len(text), max_len), 1, -1):
        codes = table.get(text[:n])
        if codes is not None:
            return Division(text[:n], codes)
    return None


def _variants(text: str, span: int, max_changes: int) -> list[str]:
    """``text`` with up to ``max_changes`` of its first ``span`` characters swapped for look-alikes."""
    spots = [i for i, ch in enumerate(text[:span]) if ch in LOOKALIKES]
    out = []
    for k in range(1, max_changes + 1):
        for idx in _combinations(spots, k):
            for repl in product(*(sorted(LOOKALIKES[text[i]]) for i in idx)):
                chars = list(text)
                for i, r in zip(idx, repl):
                    chars[i] = r
                out.append("".join(chars))
    return out


def _combinations(items: list[int], k: int):
    from itertools import combinations

    return combinations(items, k)


def _match(text: str, table: dict[str, frozenset[str]], max_changes: int) -> tuple[Division | None, str]:
    exact = _longest(text, table)
    best, best_text = exact, text
    span = min(len(text), 16)
    for variant in _variants(text, span, max_changes):
        m = _longest(variant, table)
        # A correction must explain more of the text than the exact reading does.
        if m is not None and (best is None or len(m.text) > len(best.text)):
            best, best_text = m, variant
    return best, best_text


def match_division(address: str, max_changes: int = 2) -> Division | None:
    """The longest known division at the start of ``address`` (look-alikes allowed)."""
    return _match(address, divisions(), max_changes)[0]


def correct_division(address: str, max_changes: int = 2) -> str:
    """``address`` with look-alike characters of its division part put right, when that
    makes the division part longer (province only -> province+city+county); the rest
    of the address untouched."""
    best, text = _match(address, divisions(), max_changes)
    if best is None or text == address:
        return address
    return best.text + address[len(best.text):]


_AUTHORITY = re.compile(r"^(?P<place>.+?)公安局(?:(?P<branch>.+?)分局)?$")


def authority_division(authority: str, max_changes: int = 1) -> tuple[Division | None, str]:
    """The division an issuing authority names, and the authority with look-alikes of
    that name corrected: ``XX县公安局``, ``XX市XX区公安局``, ``XX市公安局XX分局``
    (a district of the city, printed without its 区)."""
    m = _AUTHORITY.match(authority)
    if m is None:
        return None, authority
    place, branch = m.group("place"), m.group("branch")
    table = _county_names()
    div, fixed = _match(place, table, max_changes)
    if div is None or div.text != fixed[: len(div.text)] or len(div.text) != len(place):
        exact = table.get(place)
        if exact is None:
            return None, authority
        div, fixed = Division(place, exact), place
    out = fixed + "公安局"
    if branch:
        district = table.get(fixed + branch + "区") or table.get(fixed + branch)
        if district is None:
            return None, authority
        div = Division(fixed + branch + "区", district)
        out += branch + "分局"
    return div, out


@lru_cache(maxsize=1)
def _parents() -> frozenset[str]:
    """Division texts that some longer division text starts with."""
    table = divisions()
    out = set()
    for text in table:
        for n in range(2, len(text)):
            if text[:n] in table:
                out.add(text[:n])
    return frozenset(out)


def is_complete(division: Division) -> bool:
    """Whether a matched division goes down to the county level (or has none below it,
    as 东莞市 and 中山市 have not)."""
    return division.text not in _parents() or any(not c.endswith("00") for c in division.codes)
