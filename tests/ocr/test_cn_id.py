"""ID card fields from OCR'd lines (card fractions), without images."""

import datetime as dt

from kyc.ocr.cn_id import TextLine, classify_side, parse_back, parse_front, validate_back, validate_front


def L(text, x0, y0, x1, y1, score=0.99):
    return TextLine(text, score, x0, y0, x1, y1)


FRONT_MERGED = [
    L("姓名张伟", 0.05, 0.13, 0.30, 0.22),
    L("性别男", 0.05, 0.25, 0.21, 0.33),
    L("民族汉", 0.30, 0.26, 0.47, 0.33, 0.95),
    L("出生 1990 年 3 月 7 日", 0.06, 0.38, 0.48, 0.45),
    L("住址 北京市东城区和平", 0.06, 0.49, 0.58, 0.57),
    L("路12号", 0.17, 0.57, 0.30, 0.64),
    L("复印无效", 0.20, 0.45, 0.60, 0.62),  # watermark
    L("西", 0.63, 0.07, 0.98, 0.74, 0.4),  # noise in the portrait
    L("公民身份号码", 0.06, 0.86, 0.25, 0.93),
    L("110101199003070011", 0.31, 0.84, 0.88, 0.93, 0.97),
]


def test_front_with_labels_merged():
    fields, conf = parse_front(FRONT_MERGED)
    assert fields == {
        "name": "张伟", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
        "address": "北京市东城区和平路12号", "id_number": "110101199003070011",
    }
    assert conf["ethnicity"] == 0.95 and conf["id_number"] == 0.97
    checks = validate_front(fields)
    assert all(c.ok for c in checks.values()), checks
    assert classify_side(FRONT_MERGED)[0] == "cn_id_front"


def test_front_with_split_labels_and_overlap_and_shifted_rows():
    lines = [
        L("姓名", 0.06, 0.16, 0.20, 0.24), L("欧阳明", 0.18, 0.15, 0.33, 0.24),
        L("性别女", 0.06, 0.28, 0.24, 0.37), L("民族蒙古", 0.32, 0.28, 0.50, 0.37),
        L("出生1", 0.06, 0.41, 0.18, 0.48), L("1985年12月1日", 0.16, 0.41, 0.50, 0.48),
        L("住址", 0.06, 0.53, 0.14, 0.60), L("内蒙古自治区包头市东河区", 0.18, 0.53, 0.58, 0.60),
        L("人民路8号", 0.18, 0.61, 0.40, 0.68),
        L("公民身份号码 15020219851201002X", 0.05, 0.88, 0.90, 0.97),
    ]
    fields, _ = parse_front(lines)
    assert fields["name"] == "欧阳明"
    assert fields["sex"] == "女" and fields["ethnicity"] == "蒙古"
    assert fields["birth_date"] == "1985-12-01"
    assert fields["address"] == "内蒙古自治区包头市东河区人民路8号"
    assert fields["id_number"] == "15020219851201002X"


def test_front_mismatches_are_reason_codes():
    fields, _ = parse_front(FRONT_MERGED)
    fields = dict(fields, sex="女", birth_date="1990-03-08")
    checks = validate_front(fields)
    assert checks["id_number_sex"].code == "sex_mismatch"
    assert checks["id_number_birth_date"].code == "birth_date_mismatch"
    fields["address"] = None
    assert validate_front(fields)["fields_complete"].code == "fields_missing"


BACK = [
    L("中华人民共和国", 0.30, 0.12, 0.73, 0.22),
    L("居民身份证", 0.29, 0.26, 0.75, 0.40),
    L("签发机关宁", 0.17, 0.73, 0.35, 0.80),  # the detector split the line inside the value
    L("宁德市屏南县公安局", 0.33, 0.73, 0.64, 0.80),
    L("有效期限", 0.17, 0.86, 0.31, 0.93),
    L("2020.08.02-2040.08.02", 0.33, 0.86, 0.68, 0.92),
]


def test_back():
    fields, conf = parse_back(BACK)
    assert fields == {"issuing_authority": "宁德市屏南县公安局", "valid_from": "2020-08-02", "valid_until": "2040-08-02", "long_term": "false"}
    assert classify_side(BACK)[0] == "cn_id_back"
    checks = validate_back(fields, today=dt.date(2026, 1, 1))
    assert checks["validity"].ok and checks["validity_term"].ok
    assert validate_back(fields, today=dt.date(2041, 1, 1))["validity"].code == "document_expired"
    assert validate_back(fields, today=dt.date(2019, 1, 1))["validity"].code == "document_not_yet_valid"


def test_back_long_term_and_irregular_term():
    lines = BACK[:2] + [L("签发机关 深圳市公安局南山分局", 0.17, 0.73, 0.70, 0.80), L("有效期限 2001.05.06-长期", 0.17, 0.86, 0.60, 0.93)]
    fields, _ = parse_back(lines)
    assert fields["issuing_authority"] == "深圳市公安局南山分局"
    assert fields["valid_from"] == "2001-05-06" and fields["valid_until"] is None and fields["long_term"] == "true"
    checks = validate_back(fields, today=dt.date(2030, 1, 1))
    assert checks["validity"].ok and "长期" in checks["validity"].message
    odd = dict(fields, valid_until="2013-05-06", long_term="false")
    assert validate_back(odd, today=dt.date(2012, 1, 1))["validity_term"].code == "validity_term_irregular"
    assert validate_back({"valid_from": None, "valid_until": None})["validity"].code == "validity_unreadable"


def test_unrelated_text_is_no_side():
    assert classify_side([L("hello", 0.1, 0.1, 0.3, 0.2)]) == (None, 0.0)


def test_public_surface():
    import kyc.ocr

    assert set(kyc.ocr.__all__) == {"read_document", "read_image", "Document", "DocumentReading", "Check", "DOCUMENT_TYPES"}
    for name in kyc.ocr.__all__:
        assert hasattr(kyc.ocr, name)
