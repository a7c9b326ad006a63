"""The residence permit for Hong Kong, Macau and Taiwan residents: a layout module of its own."""

import datetime as dt

import pytest

from benchmarks.synthetic_cards import make_sample
from kyc.ocr import read_document
from kyc.ocr.gb11643 import check_character
from kyc.ocr.layouts import get_layout
from kyc.ocr.layouts.hmt_residence import HmtResidenceBack, HmtResidenceFront, permit_number_ok
from kyc.ocr.reader import classify_card
from kyc.verification.masking import mask_fields

from .test_cn_id import L

TODAY = dt.date(2026, 1, 1)


def _number(prefix: str, birth: str = "19900307", seq: str = "001") -> str:
    body = prefix + birth + seq
    return body + check_character(body)


def _front(number: str):
    return [
        L("姓名 陈家明", 0.05, 0.13, 0.35, 0.22), L("性别 男", 0.05, 0.25, 0.21, 0.33),
        L("出生 1990 年 3 月 7 日", 0.06, 0.38, 0.48, 0.45), L("住址 广东省深圳市南山区建设大道12号", 0.06, 0.49, 0.60, 0.57),
        L("公民身份号码", 0.06, 0.86, 0.25, 0.93), L(number, 0.31, 0.84, 0.88, 0.93, 0.97),
    ]


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_front_is_told_from_the_id_card_by_its_number(prefix):
    layout = classify_card(_front(_number(prefix)))
    assert layout is get_layout("hmt_residence_front")
    fields, conf = layout.parse(_front(_number(prefix)))
    assert fields == HmtResidenceFront("陈家明", "男", dt.date(1990, 3, 7), "广东省深圳市南山区建设大道12号", _number(prefix))
    checks = layout.validate(fields, today=TODAY)
    assert all(c.ok for c in checks.values()), checks
    # The same card with a mainland number is an ID card front (which then misses 民族).
    assert classify_card(_front(_number("440305"))) is get_layout("cn_id_front")


def test_front_number_prefix_and_check_character_are_checked():
    layout = get_layout("hmt_residence_front")
    bad = _number("810000")[:-1] + ("0" if _number("810000")[-1] != "0" else "1")
    checks = layout.validate(layout.parse(_front(bad))[0], today=TODAY)
    assert checks["id_number_check_digit"].code == "id_number_check_digit"
    fields = HmtResidenceFront("陈家明", "男", dt.date(1990, 3, 7), "广东省深圳市南山区建设大道12号", _number("440305"))
    assert layout.validate(fields, today=TODAY)["id_number_prefix"].code == "permit_prefix_invalid"


def test_back_fields_and_checks():
    lines = [
        L("中华人民共和国", 0.30, 0.10, 0.80, 0.20), L("港澳台居民居住证", 0.29, 0.24, 0.85, 0.34),
        L("签发机关 深圳市公安局", 0.17, 0.53, 0.70, 0.60), L("有效期限 2023.04.01-2028.04.01", 0.17, 0.64, 0.80, 0.71),
        L("通行证号码 H12345678", 0.17, 0.75, 0.70, 0.82), L("签发次数 02", 0.17, 0.86, 0.45, 0.93),
    ]
    layout = classify_card(lines)
    assert layout is get_layout("hmt_residence_back")
    fields, _ = layout.parse(lines)
    assert fields == HmtResidenceBack("深圳市公安局", dt.date(2023, 4, 1), dt.date(2028, 4, 1), "H12345678", 2)
    checks = layout.validate(fields, today=TODAY)
    assert all(c.ok for c in checks.values()), checks
    assert permit_number_ok("12345678") and permit_number_ok("M12345678") and not permit_number_ok("X1234567")
    assert layout.validate(HmtResidenceBack("深圳市公安局", dt.date(2023, 4, 1), dt.date(2033, 4, 1), "H1234", 2),
                           today=TODAY)["validity_term"].code == "validity_term_irregular"


def test_common_fields_are_masked_like_the_id_card():
    fields = HmtResidenceFront("陈家明", "男", dt.date(1990, 3, 7), "广东省深圳市南山区建设大道12号", _number("810000"))
    masked = mask_fields(fields.common())
    assert masked["name"] == "陈*明" and masked["id_number"].startswith("8100") and "*" in masked["id_number"]


@pytest.mark.models
def test_synthetic_permit_both_sides_read_exactly(settings):
    sample = make_sample(3, "medium", both_sides=True, watermark=True, document="hmt_residence")
    reading = read_document(sample.image, today=TODAY, settings=settings)
    for gt in sample.ground_truth()["documents"]:
        docs = [d for d in reading.documents if d.type == gt["type"]]
        assert docs, (gt["type"], [d.type for d in reading.documents])
        got = docs[0].fields.as_text()
        for key, want in gt["fields"].items():
            assert got[key] == want, key
        assert docs[0].valid
