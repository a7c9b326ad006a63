"""The layout registry and the typed fields (no images, no models)."""

import dataclasses
import datetime as dt

import pytest

from kyc.admin.review import FIELD_LABELS
from kyc.ocr import DOCUMENT_TYPES, Document
from kyc.ocr.layouts import LAYOUTS, back_types, card_layouts, front_types, get_layout
from kyc.ocr.layouts.cn_id import CnIdBack, CnIdFront
from kyc.ocr.layouts.mrz import from_reading
from kyc.ocr.mrz import parse_mrz
from kyc.ocr.reader import classify_card
from kyc.verification.masking import MASKED_FIELDS, mask_fields

from .test_cn_id import FRONT_MERGED, L


def test_every_type_is_registered_once_with_a_side():
    assert set(DOCUMENT_TYPES) == set(LAYOUTS)
    assert set(front_types()) | set(back_types()) == set(LAYOUTS)
    assert not set(front_types()) & set(back_types())
    assert "cn_id_front" in front_types() and "cn_id_back" in back_types() and "passport_td3" in front_types()
    for layout in card_layouts():
        assert layout.classify and layout.parse and layout.validate


def test_review_labels_cover_every_field_of_every_layout():
    # The label key must be the reader's key (it once was "authority" for "issuing_authority").
    for layout in LAYOUTS.values():
        for f in dataclasses.fields(layout.fields):
            assert f.name in FIELD_LABELS, (layout.type, f.name)
        sample = layout.fields(*[None] * len(dataclasses.fields(layout.fields)))
        for name in sample.common():
            assert name in FIELD_LABELS, (layout.type, name)
    assert FIELD_LABELS["issuing_authority"] == "Issuing authority"


def test_front_reading_is_typed_and_frozen():
    layout = classify_card(FRONT_MERGED)
    assert layout is get_layout("cn_id_front")
    fields, conf = layout.parse(FRONT_MERGED)
    assert isinstance(fields, CnIdFront) and fields.birth_date == dt.date(1990, 3, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fields.name = "x"
    doc = Document(layout.type, fields, layout.validate(fields, today=dt.date(2026, 1, 1)), conf)
    assert doc.valid and doc.complete
    assert doc.to_dict()["fields"]["birth_date"] == "1990-03-07"
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.type = "cn_id_back"


def test_back_long_term_is_a_bool():
    lines = [L("签发机关 深圳市公安局南山分局", 0.25, 0.70, 0.85, 0.78), L("有效期限 2001.05.06-长期", 0.25, 0.82, 0.85, 0.90)]
    layout = classify_card(lines)
    assert layout is get_layout("cn_id_back")
    fields, _ = layout.parse(lines)
    assert fields == CnIdBack("深圳市公安局南山分局", dt.date(2001, 5, 6), None, True)
    assert fields.as_text()["long_term"] == "true"
    checks = layout.validate(fields, today=dt.date(2026, 1, 1))
    assert checks["validity"].ok and layout.complete(fields, checks)


def test_mrz_fields_map_to_common_names_and_are_masked_like_an_id_card():
    td3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    reading = parse_mrz(td3, today=dt.date(2010, 1, 1))
    fields = from_reading(reading.fields)
    assert fields.birth_date == dt.date(1974, 8, 12) and fields.expiry_date == dt.date(2012, 4, 15)
    common = fields.common()
    assert common["id_number"] == "L898902C3" and common["name"] == "ERIKSSON ANNA MARIA"
    assert common["valid_until"] == "2012-04-15"
    masked = mask_fields(common)
    assert set(masked) <= set(MASKED_FIELDS)
    assert masked["id_number"] != "L898902C3" and masked["name"].startswith("E") and "*" in masked["name"]
