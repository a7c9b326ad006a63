import io

import numpy as np
import pytest
from PIL import Image

from kyc.errors import KycError
from kyc.images import decode_image, sniff_image_type


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _test_image(w: int = 200, h: int = 100) -> Image.Image:
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (255, 0, 0)  # left half red
    return Image.fromarray(arr)


@pytest.mark.parametrize("fmt,kind", [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")])
def test_decodes_common_formats_to_bgr(fmt, kind):
    data = _encode(_test_image(), fmt)
    assert sniff_image_type(data) == kind
    out = decode_image(data, max_bytes=10**7, max_pixels=10**7, min_side=16)
    assert out.shape == (100, 200, 3)
    # left half red in RGB is (0, 0, 255) in BGR
    assert out[50, 10, 2] > 200 and out[50, 10, 0] < 50


def test_decodes_heic():
    from pillow_heif import register_heif_opener

    register_heif_opener()
    data = _encode(_test_image(), "HEIF")
    assert sniff_image_type(data) == "heic"
    out = decode_image(data, max_bytes=10**7, max_pixels=10**7, min_side=16)
    assert out.shape == (100, 200, 3)


def test_exif_orientation_is_applied():
    img = _test_image(200, 100)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _encode(img, "JPEG", exif=exif)
    out = decode_image(data, max_bytes=10**7, max_pixels=10**7, min_side=16)
    assert out.shape == (200, 100, 3)
    # the red left half is now the top half
    assert out[10, 50, 2] > 200 and out[190, 50, 2] < 50


@pytest.mark.parametrize(
    "data,code",
    [
        (b"", "image_empty"),
        (b"%PDF-1.4 not an image", "image_unsupported_type"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "image_corrupt"),
    ],
)
def test_bad_uploads_have_codes(data, code):
    with pytest.raises(KycError) as exc:
        decode_image(data, max_bytes=10**7, max_pixels=10**7, min_side=16)
    assert exc.value.code == code
    assert 400 <= exc.value.status < 500


def test_truncated_jpeg_is_corrupt():
    data = _encode(_test_image(400, 400), "JPEG")
    with pytest.raises(KycError) as exc:
        decode_image(data[: len(data) // 3], max_bytes=10**7, max_pixels=10**7, min_side=16)
    assert exc.value.code == "image_corrupt"


def test_limits():
    data = _encode(_test_image(400, 300), "PNG")
    with pytest.raises(KycError) as exc:
        decode_image(data, max_bytes=100, max_pixels=10**7, min_side=16)
    assert exc.value.code == "image_too_large" and exc.value.status == 413
    with pytest.raises(KycError) as exc:
        decode_image(data, max_bytes=10**7, max_pixels=1000, min_side=16)
    assert exc.value.code == "image_too_many_pixels"
    with pytest.raises(KycError) as exc:
        decode_image(data, max_bytes=10**7, max_pixels=10**7, min_side=301)
    assert exc.value.code == "image_too_small"
