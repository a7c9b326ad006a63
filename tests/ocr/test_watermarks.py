"""Watermark fading (pure image functions) and the choice among readings (no models)."""

import dataclasses
import datetime as dt

import numpy as np
import pytest

from kyc.ocr import Document
from kyc.ocr.layouts import get_layout
from kyc.ocr.layouts.cn_id import CnIdBack
from kyc.ocr.reader import choose_fields
from kyc.ocr.watermarks import close_overlays, fade_colour, fade_light

TODAY = dt.date(2026, 1, 1)


def _card_with_overlay(rgb_overlay, opacity):
    """A pale card (BGR) with a black stroke, and an overlay band crossing both."""
    card = np.full((100, 200, 3), 238, np.uint8)
    card[40:60, 20:180] = 20  # the print
    over = np.array(rgb_overlay[::-1], np.float32)
    band = card[:, 90:110].astype(np.float32)
    card[:, 90:110] = (band * (1 - opacity) + over * opacity).astype(np.uint8)
    return card


def test_coloured_overlay_fades_and_print_stays():
    card = _card_with_overlay((220, 30, 30), 0.5)  # a red stamp at 50 %
    out = fade_colour(card)[:, :, 0]
    assert out[10, 100] > 200  # the stamp over the background is nearly white
    assert out[50, 50] < 40  # the print stays black


@pytest.mark.parametrize("grey, opacity", [(120, 0.4), (40, 0.3), (0, 0.25)])
def test_translucent_grey_overlay_goes_white_in_the_second_pass(grey, opacity):
    card = _card_with_overlay((grey, grey, grey), opacity)
    assert fade_colour(card)[10, 100, 0] < 215  # colour alone cannot remove a grey stamp
    out = fade_light(card)[:, :, 0]
    assert out[10, 100] == 255 and out[10, 10] == 255
    assert out[50, 50] < 30 and out[50, 100] < 128  # the print, also under the stamp (on the dark half)


def test_close_overlays_removes_thin_strokes_keeps_regions():
    img = np.full((300, 400, 3), 90, np.uint8)
    img[50:250, 60:340] = 230  # the card
    img[100:104, :] = 40  # a thin watermark stroke across everything
    out = close_overlays(img)
    assert out[102, 200, 0] > 200 and out[102, 20, 0] == 90


def test_choice_among_readings_by_the_layout_checks():
    layout = get_layout("cn_id_back")
    first = CnIdBack("楚雄韩族自治州楚雄市公安局", dt.date(2020, 8, 2), dt.date(2040, 8, 2))  # 彝 misread
    second = CnIdBack("楚雄彝族自治州楚雄市公安局", dt.date(2020, 8, 2), None)  # validity lost
    docs = [Document(layout.type, f, layout.validate(f, today=TODAY), {"issuing_authority": 0.99, "valid_until": 0.95})
            for f in (first, second)]
    assert not docs[0].valid and not docs[1].complete
    best = choose_fields(docs[0], [docs[1]], TODAY)
    assert best.fields == dataclasses.replace(first, issuing_authority="楚雄彝族自治州楚雄市公安局")
    assert best.valid and best.complete
    # Only values that were read: a field neither reading has stays empty.
    empty = CnIdBack(None, dt.date(2020, 8, 2), dt.date(2040, 8, 2))
    d = Document(layout.type, empty, layout.validate(empty, today=TODAY), {})
    assert choose_fields(d, [d], TODAY).fields.issuing_authority is None
