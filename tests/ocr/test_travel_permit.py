"""Mainland travel permits for Hong Kong, Macau and Taiwan residents: a layout module."""

import datetime as dt

import pytest

from benchmarks.synthetic_cards import make_sample
from kyc.ocr import read_document
from kyc.ocr.layouts import get_layout
from kyc.ocr.layouts.travel_permit import TravelPermitFront, authority_ok, permit_region
from kyc.ocr.reader import classify_card
from kyc.verification.masking import mask_fields

from .test_cn_id import L

TODAY = dt.date(2026, 1, 1)


def _lines(number="H12345678", title="港澳居民来往内地通行证", authority="公安部出入境管理局"):
    return [
        L(title, 0.07, 0.04, 0.70, 0.13), L("西", 0.05, 0.30, 0.25, 0.60, 0.3),  # portrait noise on the left
        L("姓名 陈大文", 0.34, 0.19, 0.65, 0.26), L("CHAN, TAI MAN", 0.49, 0.28, 0.75, 0.35),
        L("出生日期 1985.03.07", 0.34, 0.38, 0.70, 0.45), L("性别 男", 0.34, 0.48, 0.55, 0.55),
        L("有效期限 2020.06.01-2030.06.01", 0.34, 0.57, 0.90, 0.64), L("签发机关 " + authority, 0.34, 0.67, 0.90, 0.74),
        L("证件号码 " + number, 0.34, 0.76, 0.75, 0.84), L("换证次数 02", 0.34, 0.86, 0.60, 0.93),
    ]


@pytest.mark.parametrize("number, title, region", [("H12345678", "港澳居民来往内地通行证", "hong_kong"),
                                                   ("M12345678", "港澳居民来往内地通行证", "macau"),
                                                   ("12345678", "台湾居民来往大陆通行证", "taiwan")])
def test_layout_fields_and_checks(number, title, region):
    lines = _lines(number, title)
    layout = classify_card(lines)
    assert layout is get_layout("travel_permit_front")
    fields, _ = layout.parse(lines)
    assert fields == TravelPermitFront("陈大文", "CHAN, TAI MAN", dt.date(1985, 3, 7), "男", dt.date(2020, 6, 1),
                                       dt.date(2030, 6, 1), "公安部出入境管理局", number, 2)
    assert permit_region(fields.permit_number) == region
    checks = layout.validate(fields, today=TODAY)
    assert all(c.ok for c in checks.values()), checks
    masked = mask_fields(fields.common())
    assert masked["name"] == "陈*文" and masked["id_number"] != number and masked["valid_until"] == "2030-06-01"


def test_checks_fail_on_a_bad_number_authority_or_term():
    layout = get_layout("travel_permit_front")
    f = TravelPermitFront("陈大文", None, dt.date(1985, 3, 7), "男", dt.date(2020, 6, 1), dt.date(2027, 6, 1),
                          "金公安部出入境管理局", "X1234", 2)
    codes = {c.code for c in layout.validate(f, today=TODAY).values() if not c.ok}
    assert codes == {"permit_number_malformed", "issuing_authority_unknown", "validity_term_irregular"}
    assert authority_ok("广东省公安厅出入境管理局") and authority_ok("深圳市公安局出入境管理局")


@pytest.mark.models
def test_synthetic_permit_reads_exactly(settings):
    sample = make_sample(204, "medium", watermark=True, document="travel_permit")
    reading = read_document(sample.image, today=TODAY, settings=settings)
    (gt,) = sample.ground_truth()["documents"]
    doc = next(d for d in reading.documents if d.type == gt["type"])
    got = doc.fields.as_text()
    assert {k: got[k] for k in gt["fields"]} == gt["fields"]
    assert doc.valid and doc.portrait is not None
