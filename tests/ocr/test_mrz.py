"""ICAO 9303 MRZ parsing: every format, every check digit, OCR confusions; no images."""

import datetime as dt
import itertools

import pytest

from kyc.ocr.mrz import best_mrz, check_digit, clean_line, find_mrz_lines, parse_mrz

TODAY = dt.date(2010, 1, 1)

# Specimens from ICAO Doc 9303 (parts 4-6 and 7).
TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
MRVA = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<"]
MRVB = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"]


def test_check_digit_examples():
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("<<<<<<<<<") == "0"


@pytest.mark.parametrize(
    "lines, kind, checks",
    [
        (TD3, "passport_td3", {"document_number", "birth_date", "expiry_date", "personal_number", "composite"}),
        (TD2, "mrz_td2", {"document_number", "birth_date", "expiry_date", "composite"}),
        (TD1, "mrz_td1", {"document_number", "birth_date", "expiry_date", "composite"}),
        (MRVA, "visa_mrva", {"document_number", "birth_date", "expiry_date"}),
        (MRVB, "visa_mrvb", {"document_number", "birth_date", "expiry_date"}),
    ],
)
def test_specimens_parse_with_every_check_digit(lines, kind, checks):
    r = parse_mrz(lines, today=TODAY)
    assert r.type == kind
    assert {k.removesuffix("_check_digit") for k in r.checks if k.endswith("_check_digit")} == checks
    assert r.valid, r.checks
    assert r.fields["surname"] == "ERIKSSON" and r.fields["given_names"] == "ANNA MARIA"
    assert r.fields["issuing_country"] == "UTO"


def test_td3_fields():
    f = parse_mrz(TD3, today=TODAY).fields
    assert f == {
        "document_code": "P", "issuing_country": "UTO", "document_number": "L898902C3", "nationality": "UTO",
        "birth_date": "1974-08-12", "sex": "F", "expiry_date": "2012-04-15", "surname": "ERIKSSON",
        "given_names": "ANNA MARIA", "personal_number": "ZE184226B",
    }


@pytest.mark.parametrize("lines", [TD3, TD2, TD1])
def test_each_digit_change_breaks_a_check(lines):
    """Changing any digit of a checked field makes its own check (or the composite) fail."""
    base = parse_mrz(lines, today=TODAY)
    assert base.valid
    row = 1
    for i, ch in enumerate(lines[row]):
        if not ch.isdigit():
            continue
        other = str((int(ch) + 3) % 10)
        changed = list(lines)
        changed[row] = lines[row][:i] + other + lines[row][i + 1 :]
        assert not parse_mrz(changed, today=TODAY).valid, i


def test_positional_confusions_are_corrected():
    noisy = ["P<UT0ERIKSS0N<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<", "L898902C36UT074O8I22F12O4I59ZE184226B<<<<<1O"]
    r = parse_mrz(noisy, today=TODAY)
    assert r.valid, r.checks
    assert r.fields["birth_date"] == "1974-08-12"
    assert r.fields["issuing_country"] == "UTO" and r.fields["nationality"] == "UTO"
    assert r.fields["surname"] == "ERIKSSON" and r.fields["given_names"] == "ANNA MARIA"


def test_alphanumeric_field_is_not_guessed():
    # 'O' read for '0' inside the document number: letters are legal there, so the check fails
    # and is reported rather than "repaired" into a number that might be wrong.
    line = TD2[1].replace("D231458907", "D23145O907")
    r = parse_mrz([TD2[0], line], today=TODAY)
    assert r.fields["document_number"] == "D23145O90"
    assert r.checks["document_number_check_digit"].code == "document_number_check_digit"
    assert not r.valid


def test_filler_lookalikes_and_length_fit():
    assert clean_line("P<UTO ERIKSSON«ANNA<MARIA くく") == "P<UTOERIKSSON<<ANNA<MARIA<<"
    short = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<10"]
    r = parse_mrz(short, today=TODAY)
    assert len(r.lines[0]) == 44 and len(r.lines[1]) == 44
    assert r.valid


def test_best_mrz_finds_zone_among_other_text_in_any_order():
    rows = ["PASSPORT", "Surname / Nom", "ERIKSSON", TD3[1], TD3[0], "Signature"]
    r = best_mrz(rows, today=TODAY)
    assert r is not None and r.type == "passport_td3" and r.valid
    for perm in itertools.permutations(TD1):
        r = best_mrz(list(perm), today=TODAY)
        assert r.type == "mrz_td1" and r.valid


def test_dates_and_validity():
    r = parse_mrz(TD3, today=dt.date(2026, 1, 1))
    assert r.checks["validity"].code == "document_expired"
    assert parse_mrz(TD3, today=dt.date(2011, 1, 1)).checks["validity"].ok
    bad = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7413122F1204159ZE184226B<<<<<10"]
    r = parse_mrz(bad, today=TODAY)
    assert r.checks["birth_date_valid"].code == "birth_date_invalid"


def test_not_mrz():
    assert find_mrz_lines(["中华人民共和国", "居民身份证", "hello world"]) == []
    assert best_mrz(["nothing here"]) is None
    assert parse_mrz(["ABC"]) is None
