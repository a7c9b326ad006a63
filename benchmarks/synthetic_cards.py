"""Synthetic Chinese resident ID cards (second generation) in phone-photo scenes.

Random but valid identities (GB 11643 check character, real GB/T 2260 region codes),
the front and back drawn in the layout of the real card (85.6 x 54 mm, drawn at
10 px/mm), then placed in a scene: background, rotation (upside down too),
perspective, blur, noise, glare, ``复印无效``-style watermarks and JPEG compression.
Every sample carries its ground truth as a JSON-able dict. Nothing made here is
committed: tests and the benchmark generate what they need from a seed.

Difficulty levels:

* ``easy``: one side, upright (tilt up to 8 degrees), mild scene, JPEG 90.
* ``medium``: one side, tilt up to 25 degrees or upside down, light perspective,
  blur or noise, a watermark half the time, JPEG 75-90.
* ``hard``: any rotation (0-360 degrees), perspective, blur and noise, glare, watermark,
  JPEG 55-80, and half the photos hold both sides side by side.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import math
import random
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from kyc.ocr.gb11643 import check_character, region_codes

__all__ = ["Identity", "Sample", "random_identity", "random_hmt_identity", "random_pr_identity", "render_pr_front", "random_travel_identity", "render_travel_front", "DOCUMENTS", "render_front", "render_back", "make_sample", "DIFFICULTIES"]

DIFFICULTIES = ("easy", "medium", "hard")
CARD_W, CARD_H = 856, 540
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FACES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces" / "lfw"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方"]
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华文辉建国玉兰志强婷雪梅海燕鹏飞宇浩然子轩梓涵欣怡思远晨曦嘉怡俊杰晓东丹丹佳琪一鸣天佑雨萱诗涵博文昊然若曦宏伟永红春梅秋菊冬梅金凤"
_ETHNIC = ["汉"] * 12 + ["回", "满", "蒙古", "壮", "维吾尔", "藏", "苗", "彝", "土家", "朝鲜", "侗", "瑶", "白", "哈尼", "哈萨克", "傣", "黎"]
_MINORITY_GIVEN = ["买买提", "艾力", "阿依古丽", "吐尔逊", "古丽", "艾合买提", "热依拉", "努尔", "阿不都", "加娜尔", "叶尔兰"]
_ROADS = "人民解放建设中山和平胜利幸福光明新华文化友谊团结东风长江黄河青年朝阳复兴振兴兴华"
_ROAD_KIND = ["路", "街", "大道", "巷"]
_VILLAGE = ["村", "社区", "组"]
# Watermarks as people put them on ID photos they send (several texts, an app's name).
_WATERMARKS = ["复印无效", "再次复印无效", "仅供{app}实名认证使用", "仅限{app}使用", "仅供办理{biz}使用 他用无效",
               "{app}", "此复印件仅供{app}审核使用", "仅供实名认证使用", "仅限本次使用"]
_WM_APPS = ["支付宝", "微信支付", "招商银行", "京东金融", "美团", "滴滴出行", "携程旅行", "中国移动", "拼多多", "闲鱼",
            "平安银行", "抖音", "Alipay", "WeChat Pay"]
_WM_BUSINESS = ["银行开户", "手机卡业务", "入职登记", "租房登记", "快递实名"]
_WM_COLOURS = {  # RGB ranges; grey and black ones are the hard case for colour-based suppression
    "red": ((190, 255), (0, 60), (0, 60)),
    "blue": ((0, 60), (60, 140), (180, 255)),
    "orange": ((230, 255), (120, 170), (0, 40)),
    "green": ((0, 80), (130, 190), (0, 90)),
    "grey": ((100, 170), None, None),
    "black": ((0, 50), None, None),
}
_WM_COLOUR_WEIGHTS = {"red": 4, "blue": 4, "orange": 1, "green": 1, "grey": 2, "black": 1}
# Card areas (x0, y0, x1, y1 in px) a single watermark is centred on: every field, the portrait.
_WM_TARGETS = [(150, 66, 420, 110), (150, 133, 460, 175), (150, 199, 450, 240), (150, 265, 560, 420),
               (265, 448, 820, 495), (560, 60, 810, 370), (290, 389, 800, 430), (290, 457, 800, 500), (200, 150, 650, 400)]


@dataclass
class Identity:
    name: str
    sex: str
    ethnicity: str
    birth_date: dt.date
    address: str
    id_number: str
    issuing_authority: str
    valid_from: dt.date
    valid_until: dt.date | None  # None: 长期
    kind: str = "cn_id"  # or "hmt_residence": the residence permit for Hong Kong, Macau and Taiwan residents
    permit_number: str | None = None  # hmt_residence: the holder's travel-permit number
    issue_count: int | None = None  # hmt_residence: 签发次数
    name_en: str | None = None  # foreign_pr: the name in Latin letters ("SURNAME, GIVEN")
    nationality: str | None = None  # foreign_pr: ISO 3166-1 alpha-3

    def fields(self) -> dict[str, str | None]:
        if self.kind == "travel_permit":
            return {
                "name_zh": self.name,
                "name_en": self.name_en,
                "birth_date": self.birth_date.isoformat(),
                "sex": self.sex,
                "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "issuing_authority": self.issuing_authority,
                "permit_number": self.permit_number,
                "issue_count": str(self.issue_count),
            }
        if self.kind == "foreign_pr":
            return {
                "name_en": self.name_en,
                "name_zh": self.name or None,
                "sex": "M" if self.sex == "男" else "F",
                "birth_date": self.birth_date.isoformat(),
                "nationality": self.nationality,
                "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "id_number": self.id_number,
            }
        if self.kind == "hmt_residence":
            return {
                "name": self.name,
                "sex": self.sex,
                "birth_date": self.birth_date.isoformat(),
                "address": self.address,
                "id_number": self.id_number,
                "issuing_authority": self.issuing_authority,
                "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "permit_number": self.permit_number,
                "issue_count": str(self.issue_count),
            }
        return {
            "name": self.name,
            "sex": self.sex,
            "ethnicity": self.ethnicity,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "issuing_authority": self.issuing_authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


@dataclass
class Sample:
    """One photo: JPEG bytes and the ground truth of each side it shows."""

    image: bytes
    difficulty: str
    identity: Identity
    sides: list[str]  # "cn_id_front" / "cn_id_back", left to right
    truth: dict[str, object] = field(default_factory=dict)

    def ground_truth(self) -> dict[str, object]:
        front_keys, back_keys = _SIDE_FIELDS[self.identity.kind]
        front = {k: v for k, v in self.identity.fields().items() if k in front_keys}
        back = {k: v for k, v in self.identity.fields().items() if k in back_keys}
        return {
            "difficulty": self.difficulty,
            "documents": [{"type": s, "fields": front if s.endswith("_front") else back} for s in self.sides],
            **self.truth,
        }


FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
BACK_FIELDS = ("issuing_authority", "valid_from", "valid_until")
_SIDE_FIELDS = {
    "cn_id": (FRONT_FIELDS, BACK_FIELDS),
    "hmt_residence": (("name", "sex", "birth_date", "address", "id_number"),
                      ("issuing_authority", "valid_from", "valid_until", "permit_number", "issue_count")),
}
_SIDE_FIELDS["foreign_pr"] = (("name_en", "name_zh", "sex", "birth_date", "nationality", "valid_from", "valid_until",
                                "id_number"), ())
_SIDE_FIELDS["travel_permit"] = (("name_zh", "name_en", "birth_date", "sex", "valid_from", "valid_until",
                                   "issuing_authority", "permit_number", "issue_count"), ())
DOCUMENTS = tuple(_SIDE_FIELDS)
_NATIONS = {"CAN": "124", "USA": "840", "GBR": "826", "DEU": "276", "FRA": "250", "JPN": "392", "KOR": "410",
            "AUS": "036", "RUS": "643", "ITA": "380", "ESP": "724", "NLD": "528", "BRA": "076", "IND": "356", "SGP": "702"}
_LATIN_SURNAMES = ["SMITH", "MUELLER", "GARCIA", "ROSSI", "TANAKA", "KIM", "IVANOV", "MARTIN", "SILVA", "BROWN",
                   "JOHNSON", "DUBOIS", "KUMAR", "NOVAK", "OCONNOR"]
_LATIN_GIVEN = ["JOHN", "ANNA", "MARIA", "DAVID", "YUKI", "MIN JUN", "OLGA", "PIERRE", "LUCAS", "EMMA", "PRIYA",
                "THOMAS", "SOFIA", "JAMES", "ELENA"]
_ZH_NAMES = ["史密斯", "安娜", "马丁", "金敏俊", "田中由纪", "大卫", "席尔瓦", "布朗"]


# --------------------------------------------------------------------------- identities


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def random_identity(rng: random.Random, today: dt.date = dt.date(2026, 1, 1)) -> Identity:
    sex = rng.choice("男女")
    surname = rng.choice(_COMPOUND) if rng.random() < 0.03 else rng.choice(_SURNAMES)
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange((dt.date(2008, 12, 31) - dt.date(1950, 1, 1)).days))
    code, prefix = rng.choice(region_codes())
    if rng.random() < 0.5:
        street = "".join(rng.sample(_ROADS, 2)) + rng.choice(_ROAD_KIND) + f"{rng.randint(1, 999)}号"
        if rng.random() < 0.6:
            street += f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2604)}室"
    else:
        street = "".join(rng.sample(_ROADS, 2)) + rng.choice(["镇", "乡", "街道"]) + "".join(rng.sample(_ROADS, 2)) + rng.choice(_VILLAGE) + f"{rng.randint(1, 300)}号"
    seq = rng.randrange(0, 500) * 2 + (1 if sex == "男" else 0)
    body = f"{code}{birth:%Y%m%d}{seq:03d}"
    age_at_issue = rng.randint(16, max(17, min(70, today.year - birth.year)))
    issued = _add_years(birth, age_at_issue) + dt.timedelta(days=rng.randrange(300))
    if issued > today:
        issued = today - dt.timedelta(days=rng.randrange(1, 300))
    years = 10 if age_at_issue < 26 else 20 if age_at_issue < 46 else None
    until = _add_years(issued, years) if years else None
    county = prefix[-3:] if len(prefix) > 3 else prefix
    authority = (prefix[prefix.find("省") + 1 :] if "省" in prefix else prefix[prefix.find("区") + 1 :] if "自治区" in prefix else prefix[3:] or prefix)
    authority = (authority or county) + "公安局"
    # A city's district is usually served by a branch: 深圳市公安局南山分局.
    m = re.fullmatch(r"(.+?市)(.{1,4})区公安局", authority)
    if m and rng.random() < 0.5:
        authority = f"{m.group(1)}公安局{m.group(2)}分局"
    ethnicity = rng.choice(_ETHNIC)
    name = surname + given
    if ethnicity in ("维吾尔", "哈萨克"):  # names of the minority form: given name·father's name
        name = rng.choice(_MINORITY_GIVEN) + "·" + rng.choice(_MINORITY_GIVEN)
    return Identity(
        name=name,
        sex=sex,
        ethnicity=ethnicity,
        birth_date=birth,
        address=prefix + street,
        id_number=body + check_character(body),
        issuing_authority=authority,
        valid_from=issued,
        valid_until=until,
    )


def random_hmt_identity(rng: random.Random, today: dt.date = dt.date(2026, 1, 1)) -> Identity:
    """A holder of the residence permit for Hong Kong, Macau or Taiwan residents: a
    810000/820000/830000 number, a mainland address, a city bureau, 5 years' validity."""
    base = random_identity(rng, today)
    prefix = rng.choice(["810000", "820000", "830000"])
    body = f"{prefix}{base.birth_date:%Y%m%d}{rng.randrange(0, 500) * 2 + (1 if base.sex == '男' else 0):03d}"
    if prefix == "830000":
        permit = f"{rng.randrange(10**8):08d}"
    else:
        permit = ("H" if prefix == "810000" else "M") + f"{rng.randrange(10**8):08d}"
    city = re.match(r"^(.+?(?:市|州|盟|地区))", base.issuing_authority)
    authority = (city.group(1) if city else base.issuing_authority.replace("公安局", "")) + "公安局"
    issued = today - dt.timedelta(days=rng.randrange(1, 4 * 365))
    return dataclasses.replace(base, ethnicity="", id_number=body + check_character(body), issuing_authority=authority,
                               valid_from=issued, valid_until=_add_years(issued, 5), kind="hmt_residence",
                               permit_number=permit, issue_count=rng.randint(1, 4))


def random_pr_identity(rng: random.Random, today: dt.date = dt.date(2026, 1, 1)) -> Identity:
    """A holder of the 2023 foreigner's permanent residence ID card: the number
    ``9 PP NNN YYYYMMDD SSS C`` (issuing province, nationality, birth date, sequence)."""
    base = random_identity(rng, today)
    nation = rng.choice(sorted(_NATIONS))
    province = rng.choice(["11", "31", "44", "32", "33", "51", "42", "21", "37", "35"])
    seq = rng.randrange(0, 500) * 2 + (1 if base.sex == "男" else 0)
    body = f"9{province}{_NATIONS[nation]}{base.birth_date:%Y%m%d}{seq:03d}"
    issued = max(dt.date(2023, 12, 1), today - dt.timedelta(days=rng.randrange(1, 700)))
    name_zh = rng.choice(_ZH_NAMES) if rng.random() < 0.5 else ""
    return dataclasses.replace(base, name=name_zh, ethnicity="", id_number=body + check_character(body), kind="foreign_pr",
                               name_en=f"{rng.choice(_LATIN_SURNAMES)}, {rng.choice(_LATIN_GIVEN)}", nationality=nation,
                               valid_from=issued, valid_until=_add_years(issued, 10), issuing_authority="")


_PINYIN = ["CHAN", "WONG", "LEE", "CHEUNG", "LAU", "HO", "NG", "LIN", "CHEN", "HUANG", "TAI MAN", "KA YAN", "WAI LING",
           "CHI KEUNG", "SIU MING", "MEI LING", "CHIH HAO", "YU TING"]


def random_travel_identity(rng: random.Random, today: dt.date = dt.date(2026, 1, 1)) -> Identity:
    """A holder of a mainland travel permit: Hong Kong (H), Macau (M) or Taiwan (8 digits)."""
    base = random_identity(rng, today)
    region = rng.choice(["H", "M", "T"])
    number = (region if region != "T" else "") + f"{rng.randrange(10**8):08d}"
    title = "台湾居民来往大陆通行证" if region == "T" else "港澳居民来往内地通行证"
    issued = today - dt.timedelta(days=rng.randrange(1, 9 * 365))
    adult = (issued - base.birth_date).days >= 18 * 365
    until = _add_years(issued, 10 if adult else 5)
    if until <= today:
        issued, until = _add_years(issued, 5), _add_years(until, 5)
    name_en = f"{rng.choice(_PINYIN[:10])}, {rng.choice(_PINYIN[10:])}"
    return dataclasses.replace(base, ethnicity=title, kind="travel_permit", name_en=name_en, permit_number=number,
                               issue_count=rng.randint(0, 5), valid_from=issued, valid_until=until,
                               issuing_authority="公安部出入境管理局", id_number="")


def render_travel_front(ident: Identity, rng: random.Random, portrait: Image.Image | None = None) -> Image.Image:
    """A mainland travel permit's identity side: title, portrait left, labelled fields right."""
    img = _card_base(rng)
    d = ImageDraw.Draw(img)
    ink = tuple(rng.randint(0, 35) for _ in range(3))
    green = (rng.randint(0, 40), rng.randint(90, 130), rng.randint(60, 100))
    _spaced(d, (60, 24), ident.ethnicity, _font("serif_bold", 40), green, 6)  # the title, kept in ``ethnicity``
    label_font, value_font = _font("sans", 22), _font("sans", 26)
    rows = [("姓名", ident.name), ("", ident.name_en or ""), ("出生日期", f"{ident.birth_date:%Y.%m.%d}"), ("性别", ident.sex),
            ("有效期限", f"{ident.valid_from:%Y.%m.%d}-{ident.valid_until:%Y.%m.%d}"), ("签发机关", ident.issuing_authority),
            ("证件号码", ident.permit_number or ""), ("换证次数", f"{ident.issue_count:02d}")]
    y = 100
    for label, value in rows:
        if label:
            d.text((290, y + 3), label, font=label_font, fill=ink)
        d.text((420, y), value, font=value_font, fill=ink)
        y += 52
    pw, ph = 230, 300
    por = portrait.convert("RGB").resize((pw, ph), Image.BILINEAR) if portrait is not None else _portrait(rng, (pw, ph))
    img.paste(por, (35, 140))
    return _round_corners(img)


def render_pr_front(ident: Identity, rng: random.Random, portrait: Image.Image | None = None) -> Image.Image:
    """The 2023 foreigner's permanent residence ID card front: bilingual labels, portrait right."""
    img = _card_base(rng)
    d = ImageDraw.Draw(img)
    ink = tuple(rng.randint(0, 35) for _ in range(3))
    red = (rng.randint(170, 210), rng.randint(20, 50), rng.randint(20, 50))
    _spaced(d, (40, 22), "中华人民共和国外国人永久居留身份证", _font("serif_bold", 34), red, 2)
    d.text((40, 66), "Foreign Permanent Resident ID Card", font=_font("sans", 22), fill=red)
    label_font, value_font = _font("sans", 20), _font("sans", 26)
    rows = [("姓名/Name", ident.name_en or ""), ("", ident.name), ("性别/Sex", ("男/M" if ident.sex == "男" else "女/F")),
            ("出生日期/Date of Birth", f"{ident.birth_date:%Y.%m.%d}"), ("国籍/Nationality", ident.nationality or ""),
            ("有效期限/Period of Validity", f"{ident.valid_from:%Y.%m.%d}-{ident.valid_until:%Y.%m.%d}")]
    y = 120
    for label, value in rows:
        if label:
            d.text((40, y + 6), label, font=label_font, fill=ink)
        if value:
            d.text((290, y), value, font=value_font, fill=ink)
        y += 52
    d.text((40, 462), "证件号码/Card No.", font=label_font, fill=ink)
    _spaced(d, (260, 452), ident.id_number, _font("sans", 32), ink, rng.uniform(4, 7))
    pw, ph = 210, 270
    por = portrait.convert("RGB").resize((pw, ph), Image.BILINEAR) if portrait is not None else _portrait(rng, (pw, ph))
    img.paste(por, (615, 125))
    return _round_corners(img)


# --------------------------------------------------------------------------- card faces


@lru_cache(maxsize=32)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont:
    names = {"sans": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc", "serif": "NotoSerifCJK-Regular.ttc",
             "serif_bold": "NotoSerifCJK-Bold.ttc"}
    path = FONT_DIR / names[kind]
    if not path.exists():
        path = FONT_DIR / names["sans"]
    return ImageFont.truetype(str(path), size, index=2)  # index 2: SC


def _card_base(rng: random.Random) -> Image.Image:
    """The guilloche-like pale background of the card, with rounded corners."""
    w, h = CARD_W, CARD_H
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    tint = np.array([rng.uniform(232, 246), rng.uniform(236, 248), rng.uniform(238, 250)], np.float32)
    wave = (np.sin(x / rng.uniform(9, 15) + np.sin(y / 23.0) * 3) + np.sin(y / rng.uniform(11, 17) + x / 40.0)) * 4
    img = np.clip(tint[None, None, :] + wave[..., None] - (x / w)[..., None] * 8, 0, 255).astype(np.uint8)
    return Image.fromarray(img, "RGB")


def _portrait(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    w, h = size
    faces = sorted(FACES_DIR.glob("images/*/*.jpg"))[:2000] if FACES_DIR.is_dir() else []
    if not faces:
        faces = sorted(FACES_DIR.glob("*/*.jpg"))[:2000] if FACES_DIR.is_dir() else []
    if faces:
        face = Image.open(rng.choice(faces)).convert("RGB")
        fw, fh = face.size
        box = (int(fw * 0.22), int(fh * 0.12), int(fw * 0.78), int(fh * 0.12 + (fw * 0.56) * h / w))
        return face.crop(box).resize((w, h), Image.BILINEAR)
    img = Image.new("RGB", (w, h), (238, 240, 244))
    d = ImageDraw.Draw(img)
    d.ellipse((w * 0.28, h * 0.12, w * 0.72, h * 0.58), fill=(70, 60, 55))
    d.ellipse((w * 0.08, h * 0.62, w * 0.92, h * 1.3), fill=(40, 45, 60))
    return img


def _spaced(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, fill, spacing: float) -> None:
    x, y = xy
    for ch in text:
        draw.text((x, y), ch, font=font, fill=fill)
        x += draw.textlength(ch, font=font) + spacing


def _wrap(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(0, len(text), n)]


def render_front(ident: Identity, rng: random.Random, portrait: Image.Image | None = None) -> Image.Image:
    """The front at 856 x 540 px: fields on the left, portrait on the right.

    ``portrait`` (any size, resized to the portrait area) puts a known face on the card,
    for end-to-end tests that match it against a selfie; by default a random LFW face.
    """
    img = _card_base(rng)
    d = ImageDraw.Draw(img)
    label_color = (rng.randint(20, 60), rng.randint(110, 150), rng.randint(170, 210))
    ink = tuple(rng.randint(0, 35) for _ in range(3))
    serif = rng.random() < 0.5
    value_font = _font("serif" if serif else "sans", 30)
    name_font = _font("serif_bold" if serif else "bold", 34)
    label_font = _font("sans", 24)
    lx, vx = 56, 150
    d.text((lx, 72), "姓  名", font=label_font, fill=label_color)
    _spaced(d, (vx, 66), ident.name, name_font, ink, 4)
    d.text((lx, 138), "性  别", font=label_font, fill=label_color)
    d.text((vx, 133), ident.sex, font=value_font, fill=ink)
    if ident.kind == "cn_id":
        d.text((268, 138), "民  族", font=label_font, fill=label_color)
        d.text((362, 133), ident.ethnicity, font=value_font, fill=ink)
    d.text((lx, 204), "出  生", font=label_font, fill=label_color)
    b = ident.birth_date
    d.text((vx, 199), str(b.year), font=value_font, fill=ink)
    d.text((vx + 80, 204), "年", font=label_font, fill=label_color)
    d.text((vx + 118, 199), str(b.month), font=value_font, fill=ink)
    d.text((vx + 155, 204), "月", font=label_font, fill=label_color)
    d.text((vx + 193, 199), str(b.day), font=value_font, fill=ink)
    d.text((vx + 230, 204), "日", font=label_font, fill=label_color)
    d.text((lx, 270), "住  址", font=label_font, fill=label_color)
    for i, line in enumerate(_wrap(ident.address, 11)[:4]):
        d.text((vx, 265 + i * 42), line, font=value_font, fill=ink)
    d.text((lx, 456), "公民身份号码", font=label_font, fill=label_color)
    num_font = _font("sans", 34)
    _spaced(d, (265, 448), ident.id_number, num_font, ink, rng.uniform(6, 9))
    pw, ph = 250, 310
    por = portrait.convert("RGB").resize((pw, ph), Image.BILINEAR) if portrait is not None else _portrait(rng, (pw, ph))
    mask = Image.new("L", (pw, ph), 255).filter(ImageFilter.GaussianBlur(0))
    img.paste(por, (560, 60), mask)
    return _round_corners(img)


def render_back(ident: Identity, rng: random.Random) -> Image.Image:
    """The back at 856 x 540 px: emblem, title, issuing authority, validity period."""
    img = _card_base(rng)
    d = ImageDraw.Draw(img)
    red = (rng.randint(190, 220), rng.randint(20, 50), rng.randint(20, 50))
    cx, cy, r = 130, 130, 78
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=10)
    d.ellipse((cx - r + 20, cy - r + 20, cx + r - 20, cy + r - 20), fill=red)
    star = [(cx + 34 * math.cos(math.radians(-90 + k * 36)) * (1 if k % 2 == 0 else 0.4),
             cy + 34 * math.sin(math.radians(-90 + k * 36)) * (1 if k % 2 == 0 else 0.4)) for k in range(10)]
    d.polygon(star, fill=(250, 215, 60))
    ink = tuple(rng.randint(0, 35) for _ in range(3))
    label_font = _font("sans", 26)
    value_font = _font("sans", 28)
    if ident.kind == "hmt_residence":
        _spaced(d, (262, 62), "中华人民共和国", _font("serif_bold", 42), ink, 10)
        _spaced(d, (248, 130), "港澳台居民居住证", _font("serif_bold", 50), ink, 6)
        rows = [("签发机关", ident.issuing_authority),
                ("有效期限", f"{ident.valid_from:%Y.%m.%d}-{ident.valid_until:%Y.%m.%d}"),
                ("通行证号码", ident.permit_number or ""), ("签发次数", f"{ident.issue_count:02d}")]
        for i, (label, value) in enumerate(rows):
            d.text((150, 290 + i * 58), label, font=label_font, fill=ink)
            d.text((310, 287 + i * 58), value, font=value_font, fill=ink)
        return _round_corners(img)
    _spaced(d, (262, 62), "中华人民共和国", _font("serif_bold", 42), ink, 10)
    _spaced(d, (252, 132), "居民身份证", _font("serif_bold", 62), ink, 18)
    d.text((150, 392), "签发机关", font=label_font, fill=ink)
    d.text((290, 389), ident.issuing_authority, font=value_font, fill=ink)
    d.text((150, 460), "有效期限", font=label_font, fill=ink)
    until = ident.valid_until.strftime("%Y.%m.%d") if ident.valid_until else "长期"
    d.text((290, 457), f"{ident.valid_from:%Y.%m.%d}-{until}", font=value_font, fill=ink)
    return _round_corners(img)


def _round_corners(img: Image.Image, radius: int = 32) -> Image.Image:
    rgba = img.convert("RGBA")
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, img.size[0] - 1, img.size[1] - 1), radius, fill=255)
    rgba.putalpha(mask)
    return rgba


# --------------------------------------------------------------------------- scenes


def _background(rng: random.Random, w: int, h: int) -> np.ndarray:
    kind = rng.choice(["plain", "wood", "noise", "cloth"])
    base = np.array([rng.randint(30, 220) for _ in range(3)], np.float32)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        tex = np.sin(x / rng.uniform(6, 20) + np.sin(y / 60.0) * 4) * 18
    elif kind == "cloth":
        tex = (np.sin(x / 3.0) * np.sin(y / 3.0)) * 12
    elif kind == "noise":
        tex = cv2.GaussianBlur(np.random.default_rng(rng.randrange(1 << 30)).normal(0, 30, (h, w)).astype(np.float32), (0, 0), 5)
    else:
        tex = np.zeros((h, w), np.float32)
    shade = (x / w - 0.5) * rng.uniform(-40, 40) + (y / h - 0.5) * rng.uniform(-40, 40)
    img = base[None, None, :] + (tex + shade)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _place(scene: np.ndarray, card: Image.Image, quad: np.ndarray) -> None:
    """Warp the RGBA card onto ``quad`` (4x2, clockwise from the card's top-left) in ``scene``."""
    rgba = np.asarray(card)
    src = np.float32([[0, 0], [CARD_W, 0], [CARD_W, CARD_H], [0, CARD_H]])
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    h, w = scene.shape[:2]
    warped = cv2.warpPerspective(rgba, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4].astype(np.float32) / 255.0
    scene[:] = (scene * (1 - alpha) + warped[..., :3] * alpha).astype(np.uint8)


def _card_quad(rng: random.Random, center: tuple[float, float], width: float, angle_deg: float, persp: float) -> np.ndarray:
    hw, hh = width / 2, width * CARD_H / CARD_W / 2
    pts = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]], np.float64)
    pts += np.array([[rng.uniform(-persp, persp) * hw, rng.uniform(-persp, persp) * hh] for _ in range(4)])
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return pts @ rot.T + np.array(center)


def _wm_colour(rng: random.Random) -> tuple[str, tuple[int, int, int]]:
    name = rng.choices(list(_WM_COLOUR_WEIGHTS), weights=list(_WM_COLOUR_WEIGHTS.values()))[0]
    r, g, b = _WM_COLOURS[name]
    if g is None:
        v = rng.randint(*r)
        return name, (v, v, v)
    return name, (rng.randint(*r), rng.randint(*g), rng.randint(*b))


def watermark_layer(size: tuple[int, int], rng: random.Random, target: tuple[int, int, int, int] | None = None) -> tuple[Image.Image, dict]:
    """A transparent RGBA layer of ``size`` with a watermark as real ones vary: one of
    several texts (an app's name among them), font, colour, opacity 15-60 %, angle,
    and either one stamp centred on ``target`` (a field, the ID number, the portrait)
    or the text tiled over the whole layer. Returns the layer and what was drawn."""
    w, h = size
    template = rng.choice(_WATERMARKS)
    text = template.format(app=rng.choice(_WM_APPS), biz=rng.choice(_WM_BUSINESS))
    colour_name, rgb = _wm_colour(rng)
    opacity = rng.uniform(0.15, 0.60)
    kind = rng.choice(["bold", "sans", "serif", "serif_bold"])
    angle = rng.choice([0.0, rng.uniform(-45, 45), rng.uniform(-45, 45)])
    tiled = rng.random() < 0.45
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    fill = (*rgb, int(round(255 * opacity)))
    if tiled:
        size_px = rng.randint(max(18, w // 40), max(24, w // 22))
        font = _font(kind, size_px)
        step_x = d.textlength(text, font=font) + rng.uniform(0.5, 2.5) * size_px
        step_y = size_px * rng.uniform(2.2, 4.0)
        # Drawn on a larger canvas and rotated, so the tiling covers the corners too.
        big = Image.new("RGBA", (2 * w, 2 * h), (0, 0, 0, 0))
        bd = ImageDraw.Draw(big)
        y, row = 0.0, 0
        while y < 2 * h:
            x = -(row % 2) * step_x / 2
            while x < 2 * w:
                bd.text((x, y), text, font=font, fill=fill)
                x += step_x
            y += step_y
            row += 1
        big = big.rotate(angle, resample=Image.BICUBIC, center=(w, h))
        layer = big.crop((w // 2, h // 2, w // 2 + w, h // 2 + h))
    else:
        x0, y0, x1, y1 = target or (int(w * 0.1), int(h * 0.2), int(w * 0.9), int(h * 0.8))
        size_px = rng.randint(max(24, w // 26), max(30, int(w / max(4, len(text)) * 0.9)))
        font = _font(kind, size_px)
        tw = d.textlength(text, font=font)
        cx, cy = (x0 + x1) / 2 + rng.uniform(-0.2, 0.2) * (x1 - x0), (y0 + y1) / 2
        d.text((cx - tw / 2, cy - size_px * 0.6), text, font=font, fill=fill)
        layer = layer.rotate(angle, resample=Image.BICUBIC, center=(cx, cy))
    info = {"text": text, "colour": colour_name, "opacity": round(opacity, 2), "angle": round(angle, 1), "tiled": tiled}
    return layer, info


def _watermark(img: Image.Image, rng: random.Random) -> dict:
    """Stamp a watermark on a rendered card (RGBA, card px), over a random field or tiled."""
    layer, info = watermark_layer(img.size, rng, rng.choice(_WM_TARGETS))
    alpha = np.asarray(img)[..., 3].copy()
    img.alpha_composite(layer)
    img.putalpha(Image.fromarray(alpha))  # the stamp stays inside the card's outline
    return info


def _glare(scene: np.ndarray, rng: random.Random) -> None:
    h, w = scene.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    sx, sy = rng.uniform(0.05, 0.15) * w, rng.uniform(0.05, 0.15) * h
    g = np.exp(-(((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2)) * rng.uniform(50, 110)
    scene[:] = np.clip(scene.astype(np.float32) + g[..., None], 0, 255).astype(np.uint8)


def photograph(card: Image.Image, seed: int = 0) -> bytes:
    """A plain phone-like JPEG photo of one rendered card: slight rotation and
    perspective on a textured background (the easy set's conditions)."""
    rng = random.Random(f"photograph:{seed}")
    W, H = 1280, 960
    scene = _background(rng, W, H)
    quad = _card_quad(rng, (W / 2, H / 2), W * 0.7, rng.uniform(-8, 8), 0.02)
    _place(scene, card, quad)
    buf = io.BytesIO()
    Image.fromarray(scene, "RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def make_sample(seed: int, difficulty: str = "medium", *, both_sides: bool | None = None,
                watermark: bool | None = None, document: str = "cn_id") -> Sample:
    """One photo of a synthetic card, reproducible from ``seed``.

    ``watermark``: None draws one as the difficulty says (never on ``easy``, half the
    medium photos, 80 % of the hard ones); True always, False never. A watermark is
    stamped on the card (a marked photocopy) or, a third of the time, drawn over the
    whole photo as an app does (:func:`watermark_layer`).
    """
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}")
    if document not in DOCUMENTS:
        raise ValueError(f"document must be one of {DOCUMENTS}")
    rng = random.Random(f"{difficulty}:{seed}" if document == "cn_id" else f"{document}:{difficulty}:{seed}")
    wm_rng = random.Random(f"watermark:{difficulty}:{seed}")  # apart, so a clean and a marked sample share the card
    ident = {"cn_id": random_identity, "hmt_residence": random_hmt_identity, "foreign_pr": random_pr_identity,
             "travel_permit": random_travel_identity}[document](rng)
    if both_sides is None:
        both_sides = difficulty == "hard" and rng.random() < 0.5
    pair = [f"{document}_front", f"{document}_back"] if document in ("cn_id", "hmt_residence") else [f"{document}_front"]
    both_sides = both_sides and len(pair) == 2
    sides = pair if both_sides else [rng.choice(pair)]
    if watermark is None:
        watermark = difficulty != "easy" and wm_rng.random() < (0.5 if difficulty == "medium" else 0.8)
    on_photo = watermark and wm_rng.random() < 1 / 3
    marks: list[dict] = []
    faces = []
    for side in sides:
        if side == "foreign_pr_front":
            card = render_pr_front(ident, rng)
        elif side == "travel_permit_front":
            card = render_travel_front(ident, rng)
        else:
            card = render_front(ident, rng) if side.endswith("_front") else render_back(ident, rng)
        if watermark and not on_photo:
            marks.append({"on": "card", **_watermark(card, wm_rng)})
        faces.append(card)
    # Scene size like a phone photo, downscaled: card width 40-70 % of the photo.
    W, H = (1280, 960) if rng.random() < 0.5 else (960, 1280)
    if both_sides:
        W, H = 1600, 1000
    scene = _background(rng, W, H)
    if difficulty == "easy":
        angle, persp = rng.uniform(-8, 8), 0.0
    elif difficulty == "medium":
        angle = rng.uniform(-25, 25) + (180 if rng.random() < 0.3 else 0)
        persp = 0.04
    else:
        angle, persp = rng.uniform(0, 360), 0.08
    if both_sides:
        angle = rng.uniform(-20, 20) + (180 if rng.random() < 0.3 else 0)
    corners: list[list[list[float]]] = []
    for i, card in enumerate(faces):
        n = len(faces)
        slot_w = W / n
        width = min(slot_w * rng.uniform(0.62, 0.8), H * 0.75 * CARD_W / CARD_H)
        rad = math.radians(angle)
        ext_w = abs(width * math.cos(rad)) + abs(width * CARD_H / CARD_W * math.sin(rad))
        ext_h = abs(width * math.sin(rad)) + abs(width * CARD_H / CARD_W * math.cos(rad))
        scale = min(1.0, 0.9 * slot_w / ext_w, 0.9 * H / ext_h)
        width *= scale
        ext_w, ext_h = ext_w * scale, ext_h * scale
        margin_x = max(0.0, (slot_w - ext_w) / 2 - 0.04 * slot_w)
        margin_y = max(0.0, (H - ext_h) / 2 - 0.04 * H)
        cx = slot_w * (i + 0.5) + rng.uniform(-margin_x, margin_x)
        cy = H / 2 + rng.uniform(-margin_y, margin_y)
        quad = _card_quad(rng, (cx, cy), width, angle, persp)
        _place(scene, card, quad)
        corners.append([[round(float(x), 1), round(float(y), 1)] for x, y in quad])
    if on_photo:
        layer, info = watermark_layer((W, H), wm_rng)
        pil = Image.fromarray(scene, "RGB").convert("RGBA")
        pil.alpha_composite(layer)
        scene = np.asarray(pil.convert("RGB")).copy()
        marks.append({"on": "photo", **info})
    if difficulty == "hard" or (difficulty == "medium" and rng.random() < 0.3):
        _glare(scene, rng)
    if difficulty != "easy":
        sigma = rng.uniform(0.4, 1.2 if difficulty == "hard" else 0.8)
        scene = cv2.GaussianBlur(scene, (0, 0), sigma)
        noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(2, 8 if difficulty == "hard" else 5), scene.shape)
        scene = np.clip(scene.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    quality = {"easy": 90, "medium": rng.randint(75, 90), "hard": rng.randint(55, 80)}[difficulty]
    buf = io.BytesIO()
    Image.fromarray(scene, "RGB").save(buf, format="JPEG", quality=quality)
    return Sample(image=buf.getvalue(), difficulty=difficulty, identity=ident, sides=sides,
                  truth={"seed": seed, "angle_deg": round(angle % 360, 1), "jpeg_quality": quality, "corners": corners,
                         "watermarks": marks})


def main(argv: list[str] | None = None) -> int:
    """Write samples and their ground truth: ``python -m benchmarks.synthetic_cards OUT_DIR [N] [DIFFICULTY]``."""
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "reports/ocr/samples")
    n = int(argv[1]) if len(argv) > 1 else 10
    levels = [argv[2]] if len(argv) > 2 else list(DIFFICULTIES)
    out.mkdir(parents=True, exist_ok=True)
    for level in levels:
        for seed in range(n):
            s = make_sample(seed, level)
            (out / f"{level}_{seed:04d}.jpg").write_bytes(s.image)
            (out / f"{level}_{seed:04d}.json").write_text(json.dumps(s.ground_truth(), ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
