"""The 2023 foreigner's permanent residence ID card: its number rules and its layout."""

import datetime as dt

import pytest

from benchmarks.synthetic_cards import make_sample
from kyc.ocr import read_document
from kyc.ocr.gb11643 import check_character
from kyc.ocr.layouts import get_layout
from kyc.ocr.layouts.foreign_pr import ForeignPrFront, pr_number, validate_pr_number
from kyc.ocr.reader import classify_card

from .test_cn_id import L

TODAY = dt.date(2026, 1, 1)


def _number(province="11", nation="124", birth="19850307", seq="001"):
    body = f"9{province}{nation}{birth}{seq}"
    return body + check_character(body)


def test_number_rules():
    n = _number()
    checks = validate_pr_number(n, birth_date=dt.date(1985, 3, 7), sex="M", today=TODAY)
    assert all(c.ok for c in checks.values()), checks
    assert validate_pr_number(n, sex="F", today=TODAY)["id_number_sex"].code == "sex_mismatch"
    assert validate_pr_number(_number(province="99"), today=TODAY)["id_number_region"].code == "region_code_unknown"
    wrong = n[:-1] + ("0" if n[-1] != "0" else "1")
    assert validate_pr_number(wrong, today=TODAY)["id_number_check_digit"].code == "id_number_check_digit"
    assert validate_pr_number("110105194912310021", today=TODAY)["id_number_format"].code == "id_number_malformed"
    assert pr_number("Card No. 9 11 124 19850307 001 " + n[-1]) == n


def _lines(number, title=True):
    out = [
        L("姓名/Name", 0.04, 0.23, 0.17, 0.29), L("SMITH, JOHN", 0.34, 0.23, 0.58, 0.30), L("史密斯", 0.34, 0.32, 0.46, 0.40),
        L("性别/Sex", 0.04, 0.42, 0.15, 0.49), L("男/M", 0.34, 0.41, 0.43, 0.50),
        L("出生日期/Date of Birth", 0.04, 0.52, 0.29, 0.59), L("1985.03.07", 0.35, 0.52, 0.52, 0.59),
        L("国籍/Nationality", 0.04, 0.61, 0.23, 0.69), L("CAN", 0.34, 0.61, 0.42, 0.69),
        L("有效期限/Period of Validity 2024.03.06-2034.03.06", 0.04, 0.71, 0.68, 0.78),
        L("证件号码/Card No.", 0.04, 0.86, 0.25, 0.91), L(number, 0.30, 0.85, 0.79, 0.92),
    ]
    if title:
        out.insert(0, L("中华人民共和国外国人永久居留身份证", 0.04, 0.05, 0.77, 0.13))
    return out


@pytest.mark.parametrize("title", [True, False])
def test_layout_parses_and_outscores_the_id_card_front(title):
    lines = _lines(_number(), title)
    layout = classify_card(lines)
    assert layout is get_layout("foreign_pr_front")  # also with the red title faded out
    fields, conf = layout.parse(lines)
    assert fields == ForeignPrFront("SMITH, JOHN", "史密斯", "M", dt.date(1985, 3, 7), "CAN",
                                    dt.date(2024, 3, 6), dt.date(2034, 3, 6), _number())
    assert all(c.ok for c in layout.validate(fields, today=TODAY).values())
    common = fields.common()
    assert common["name"] == "史密斯" and common["id_number"] == _number() and common["valid_until"] == "2034-03-06"


@pytest.mark.models
def test_synthetic_card_reads_exactly(settings):
    sample = make_sample(101, "medium", watermark=True, document="foreign_pr")
    reading = read_document(sample.image, today=TODAY, settings=settings)
    (gt,) = sample.ground_truth()["documents"]
    doc = next(d for d in reading.documents if d.type == gt["type"])
    got = doc.fields.as_text()
    assert {k: got[k] for k in gt["fields"]} == gt["fields"]
    assert doc.valid and doc.portrait is not None


def test_latin_name_keeps_its_printed_comma_form():
    layout = get_layout("foreign_pr_front")
    lines = [L("SMITH,JOHN" if ln.text == "SMITH, JOHN" else ln.text, ln.x0, ln.y0, ln.x1, ln.y1) for ln in _lines(_number())]
    assert layout.parse(lines)[0].name_en == "SMITH, JOHN"
