"""The synthetic card generator and card finding, without OCR models."""

import json
import math

import cv2
import numpy as np
import pytest

from benchmarks.synthetic_cards import (
    CARD_H,
    CARD_W,
    _background,
    _place,
    make_sample,
    random_identity,
    render_front,
)
from kyc.images import decode_image
from kyc.ocr.gb11643 import validate_id_number
from kyc.ocr.geometry import _iou, find_card_quads, order_corners, quad_from_boxes, warp_card


def test_identities_are_valid_and_reproducible():
    import random

    for seed in range(200):
        a = random_identity(random.Random(seed))
        checks = validate_id_number(a.id_number, printed_birth_date=a.birth_date.isoformat(), printed_sex=a.sex)
        assert all(c.ok for c in checks.values()), (seed, checks)
        assert a.valid_from >= a.birth_date
        assert a.valid_until is None or a.valid_until > a.valid_from
    assert random_identity(random.Random(5)) == random_identity(random.Random(5))


def test_sample_ground_truth_is_json_and_seeded():
    s = make_sample(3, "hard", both_sides=True)
    gt = json.loads(json.dumps(s.ground_truth(), ensure_ascii=False))
    assert [d["type"] for d in gt["documents"]] == ["cn_id_front", "cn_id_back"]
    assert set(gt["documents"][0]["fields"]) == {"name", "sex", "ethnicity", "birth_date", "address", "id_number"}
    assert len(gt["corners"]) == 2
    assert make_sample(3, "hard", both_sides=True).image == s.image
    assert decode_image(s.image).shape[2] == 3


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_cards_are_found_where_they_were_placed(difficulty):
    hits = total = 0
    for seed in range(8):
        s = make_sample(seed, difficulty)
        quads = find_card_quads(decode_image(s.image))
        for gt in s.truth["corners"]:
            total += 1
            best = max((_iou(q.corners, np.array(gt, np.float32)) for q in quads), default=0.0)
            hits += best > 0.85
    assert hits >= total - 1, (hits, total)


def _scene_with_card(offset_x: float) -> np.ndarray:
    import random

    rng = random.Random(0)
    card = render_front(random_identity(rng), rng)
    scene = _background(rng, 1200, 900)
    w = 700
    h = w * CARD_H / CARD_W
    cx, cy = 600 + offset_x, 450
    quad = np.array([[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2], [cx + w / 2, cy + h / 2], [cx - w / 2, cy + h / 2]])
    _place(scene, card, quad)
    return scene


def test_card_touching_the_border_is_flagged():
    inside = find_card_quads(_scene_with_card(0))
    assert inside and not inside[0].touches_border
    cut = find_card_quads(_scene_with_card(420))
    assert all(q.touches_border for q in cut)


def test_warp_and_corner_order():
    pts = np.array([[10, 10], [210, 20], [200, 150], [5, 140]], np.float32)
    rolled = np.roll(pts, 2, axis=0)
    assert np.allclose(order_corners(rolled), order_corners(pts))
    img = np.zeros((200, 250, 3), np.uint8)
    assert warp_card(img, pts).shape == (540, 856, 3)
    # A portrait-held card is turned so its long side is horizontal.
    tall = np.array([[0, 0], [100, 0], [100, 160], [0, 160]], np.float32)
    q = order_corners(tall)
    assert np.linalg.norm(q[1] - q[0]) > np.linalg.norm(q[3] - q[0])


def test_quad_from_text_boxes_has_card_ratio():
    boxes = [np.array([[100, 100 + 40 * i], [400, 100 + 40 * i], [400, 130 + 40 * i], [100, 130 + 40 * i]], np.float32) for i in range(5)]
    q = quad_from_boxes(boxes, (1000, 1000))
    c = q.corners
    long_side = np.linalg.norm(c[1] - c[0])
    short_side = np.linalg.norm(c[3] - c[0])
    assert math.isclose(long_side / short_side, CARD_W / CARD_H, rel_tol=0.02)
    assert quad_from_boxes(boxes[:2], (1000, 1000)) is None


def test_blank_photo_has_no_card():
    assert find_card_quads(np.full((600, 800, 3), 128, np.uint8)) == []
    assert find_card_quads(cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (600, 800, 3), dtype=np.uint8), (0, 0), 3)) == []
