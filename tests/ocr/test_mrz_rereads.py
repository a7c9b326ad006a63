"""Choosing among real re-readings of MRZ lines (kyc.ocr.reader._combine), no images."""

from __future__ import annotations

import datetime as dt

from kyc.ocr.mrz import best_mrz
from kyc.ocr.reader import _combine, _mrz_document

TODAY = dt.date(2010, 1, 1)
L1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
L2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
L2_MISREAD = "L898902C36UTO7408122F12041597E184226B<<<<<10"  # Z read as 7: personal number fails


def _build(texts):
    return _mrz_document([t for t, _ in texts], TODAY, [s for _, s in texts])


def _first(*lines):
    return [(t, 0.9) for t in lines]


def test_rereading_that_validates_is_kept():
    first = _first("Date of expiry", L1, L2_MISREAD)
    doc = _build(first)
    assert not all(c.ok for k, c in doc.checks.items() if k.endswith("_check_digit"))
    alts = [_first("Dte of expry", L1, L2_MISREAD), _first("Date of expiry", L1, L2)]
    out = _combine(doc, first, alts, _build)
    assert list(out.mrz_lines) == [L1, L2]
    assert all(c.ok for k, c in out.checks.items() if k.endswith("_check_digit"))


def test_rereading_is_not_taken_without_more_valid_digits():
    first = _first(L1, L2_MISREAD)
    doc = _build(first)
    worse = L2_MISREAD.replace("7408122", "7408128")  # breaks the birth date digit too
    out = _combine(doc, first, [_first(L1, worse), _first("P<UT0ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", L2_MISREAD)],
                   _build)
    assert out is doc


def test_caption_differences_do_not_use_up_the_line_budget():
    captions = [f"Caption number {i} of the page" for i in range(6)]
    first = _first(*captions, L1, L2_MISREAD)
    doc = _build(first)
    alt = _first(*[c.upper() for c in captions], L1, L2)
    out = _combine(doc, first, [alt], _build, max_lines=1)
    assert list(out.mrz_lines) == [L1, L2]


def test_build_helper_matches_best_mrz():
    assert list(_build(_first(L1, L2)).mrz_lines) == best_mrz([L1, L2], today=TODAY).lines
