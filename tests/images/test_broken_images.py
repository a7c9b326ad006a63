"""Every decoder failure is a 4xx code: a generated corpus of broken and odd images
(tests/images/corpus.py) through the header check and the decoder."""

from __future__ import annotations

import numpy as np
import pytest

from kyc.errors import KycError
from kyc.images import check_image_header, decode_image
from tests.images.corpus import broken_corpus, encode, odd_but_valid, valid_images

LIMITS = dict(max_bytes=10_000_000, max_pixels=50_000_000, min_side=16)
BROKEN = broken_corpus()
ODD = odd_but_valid()


def test_the_corpus_covers_what_the_issue_names():
    names = " ".join(n for n, _ in BROKEN + ODD)
    for kind in ("truncated", "magic", "bomb", "avif", "heic", "webp", "tiff", "cmyk", "16bit", "animated"):
        assert kind in names, kind
    assert len(BROKEN) >= 60


@pytest.mark.parametrize("name,data", BROKEN, ids=[n for n, _ in BROKEN])
def test_broken_images_decode_or_fail_with_a_4xx_code(name, data):
    for check in (lambda: check_image_header(data, LIMITS["max_pixels"]), lambda: decode_image(data, **LIMITS)):
        try:
            out = check()
        except KycError as exc:
            assert 400 <= exc.status < 500, (name, exc.code)
            continue
        if isinstance(out, np.ndarray):  # a bit flip in pixel data can still decode
            assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8


def test_a_corrupted_avif_is_image_corrupt_not_a_runtime_error():
    avif = dict(valid_images())["avif"]
    damaged = avif[: len(avif) // 2] + b"\0" * (len(avif) - len(avif) // 2)
    with pytest.raises(KycError) as exc:
        decode_image(damaged, **LIMITS)  # Pillow's AVIF plugin raises RuntimeError here
    assert exc.value.code == "image_corrupt" and exc.value.status == 422


def test_bombs_are_refused_from_the_header():
    for name, data in BROKEN:
        if "bomb" in name:
            with pytest.raises(KycError) as exc:
                check_image_header(data, LIMITS["max_pixels"])
            assert exc.value.code in ("image_too_many_pixels", "image_corrupt"), name


def test_unsupported_containers_are_415():
    for name, data in BROKEN:
        if name.split("-")[0] in ("tiff", "gif", "bmp", "pdf"):
            with pytest.raises(KycError) as exc:
                decode_image(data, **LIMITS)
            assert exc.value.code == "image_unsupported_type" and exc.value.status == 415, name


@pytest.mark.parametrize("name,data", ODD, ids=[n for n, _ in ODD])
def test_odd_but_valid_images_decode_to_8bit_bgr(name, data):
    out = decode_image(data, **LIMITS)
    assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8
    assert 5 < float(out.mean()) < 250, "scaled, not clipped to black or white"


def test_sixteen_bit_keeps_its_contrast():
    from PIL import Image

    ramp = (np.tile(np.arange(256, dtype=np.uint16), (64, 1)) * 257)
    out = decode_image(encode(Image.fromarray(ramp), "PNG"), **LIMITS)
    assert out[:, 0].max() < 10 and out[:, -1].min() > 245
    assert 100 < int(out[:, 128].mean()) < 160  # the old convert("RGB") clipped everything above 255 to white
