"""GB 11643 identity numbers: check character, region table, birth date and sex; no images."""

import datetime as dt
import random

import pytest

from kyc.ocr.gb11643 import (
    birth_date_of,
    check_character,
    normalise_id_number,
    region_codes,
    region_name,
    sex_of,
    validate_id_number,
)

# The worked example of GB 11643-1999 and numbers built from it.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example():
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"
    checks = validate_id_number(STANDARD_EXAMPLE, printed_birth_date="1949-12-31", printed_sex="女")
    assert all(c.ok for c in checks.values()), checks


def test_check_character_matches_iso7064_definition():
    rng = random.Random(1)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        # ISO 7064 MOD 11-2: sum(a_i * 2^(i-1) mod 11) over all 18 positions (check = 10 -> X) is 1 mod 11.
        c = check_character(body)
        full = [int(d) for d in body] + [10 if c == "X" else int(c)]
        assert sum(a * pow(2, 17 - i, 11) for i, a in enumerate(full)) % 11 == 1


def test_every_single_substitution_and_adjacent_swap_is_caught():
    number = "440308199901010012"
    number = number[:17] + check_character(number[:17])
    for i in range(17):
        for d in "0123456789":
            if d != number[i]:
                bad = number[:i] + d + number[i + 1 :]
                assert validate_id_number(bad)["id_number_check_digit"].code == "id_number_check_digit"
    for i in range(16):
        if number[i] != number[i + 1]:
            bad = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not validate_id_number(bad)["id_number_check_digit"].ok


def test_region_table_is_real_and_complete_enough():
    codes = region_codes()
    assert len(codes) > 2500
    assert dict(codes)["110101"].endswith("东城区")
    assert region_name("440305") and "南山区" in region_name("440305")
    assert region_name("999999") is None
    body = "999999199001010012"
    body = body[:17] + check_character(body[:17])
    assert validate_id_number(body)["id_number_region"].code == "region_code_unknown"
    # A code retired long ago (崇文区, merged 2010) stays valid for numbers issued then.
    old = "110103198001010011"
    old = old[:17] + check_character(old[:17])
    assert validate_id_number(old)["id_number_region"].ok


def test_birth_date_and_sex_against_printed():
    n = "11010519491231002X"
    assert birth_date_of(n) == dt.date(1949, 12, 31)
    assert sex_of(n) == "女"
    checks = validate_id_number(n, printed_birth_date="1949-12-30", printed_sex="男")
    assert checks["id_number_birth_date"].code == "birth_date_mismatch"
    assert checks["id_number_sex"].code == "sex_mismatch"
    impossible = "110105194913310020"
    impossible = impossible[:17] + check_character(impossible[:17])
    assert validate_id_number(impossible)["id_number_birth_date"].code == "id_number_birth_date_invalid"
    future = "110105209901010020"
    future = future[:17] + check_character(future[:17])
    assert validate_id_number(future, today=dt.date(2026, 1, 1))["id_number_birth_date"].code == "id_number_birth_date_invalid"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("公民身份号码 11010519491231002X", "11010519491231002X"),
        ("11O1O5I949I23IOO2x", "11010519491231002X"),
        ("1101 0519 4912 3100 2X", "11010519491231002X"),
        ("11010519491231002×", "11010519491231002X"),
        ("姓名 张三", None),
        ("1101051949123100", None),
    ],
)
def test_normalise_id_number(text, expected):
    assert normalise_id_number(text) == expected


def test_malformed():
    assert validate_id_number(None)["id_number_format"].code == "id_number_malformed"
    assert validate_id_number("12345")["id_number_format"].code == "id_number_malformed"
    assert validate_id_number("1101051949123100XX")["id_number_format"].code == "id_number_malformed"
