"""End to end with the real PP-OCR models: photos in, validated fields out."""

import datetime as dt
import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmarks.synthetic_cards import make_sample
from kyc.errors import KycError
from kyc.ocr import Document, DocumentReading, read_document

from .test_synthetic_and_geometry import _scene_with_card

pytestmark = pytest.mark.models
TODAY = dt.date(2026, 1, 1)


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def _expect(reading: DocumentReading, sample) -> None:
    for gt in sample.ground_truth()["documents"]:
        docs = [d for d in reading.documents if d.type == gt["type"]]
        assert docs, (gt["type"], [d.type for d in reading.documents])
        for key, want in gt["fields"].items():
            assert docs[0].fields.as_text()[key] == want, key


@pytest.mark.parametrize("seed, difficulty", [(1, "easy"), (3, "medium"), (4, "hard")])
def test_synthetic_photos_read_exactly(settings, seed, difficulty):
    sample = make_sample(seed, difficulty)
    reading = read_document(sample.image, today=TODAY, settings=settings)
    _expect(reading, sample)
    assert reading.engine == "rapidocr"
    for doc in reading.documents:
        assert set(doc.confidence) >= {k for k in doc.fields.as_dict() if k != "long_term"}
        assert all(0.0 <= v <= 1.0 for v in doc.confidence.values())


def test_both_sides_upside_down_in_one_photo(settings):
    sample = make_sample(7, "hard", both_sides=True)
    upside = cv2.rotate(cv2.imdecode(np.frombuffer(sample.image, np.uint8), cv2.IMREAD_COLOR), cv2.ROTATE_180)
    reading = read_document(_jpeg(upside), today=TODAY, settings=settings)
    _expect(reading, sample)
    front = next(d for d in reading.documents if d.type == "cn_id_front")
    assert front.portrait is not None and front.portrait.ndim == 3 and front.portrait.shape[0] > 100
    assert front.checks["id_number_check_digit"].ok and front.checks["id_number_region"].ok
    out = reading.to_dict()
    json.dumps(out, ensure_ascii=False)  # serialisable: the portrait is not in it
    assert "portrait" not in out["documents"][0]


def test_exif_rotated_png_and_webp(settings):
    sample = make_sample(2, "easy")
    img = Image.open(io.BytesIO(sample.image)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display: undoes the 90 CCW above
    buf = io.BytesIO()
    img.save(buf, format="WEBP", exif=exif.tobytes(), quality=90)
    _expect(read_document(buf.getvalue(), today=TODAY, settings=settings), sample)


def test_failures_have_codes(settings):
    with pytest.raises(KycError) as e:
        read_document(b"not an image at all", settings=settings)
    assert e.value.code == "image_unsupported_type"
    with pytest.raises(KycError) as e:
        read_document(_jpeg(np.full((600, 800, 3), 200, np.uint8)), settings=settings)
    assert e.value.code == "document_not_found"
    with pytest.raises(KycError) as e:
        read_document(_jpeg(_scene_with_card(480)), settings=settings)
    assert e.value.code == "document_cut_off"


def test_mrz_specimen_passport(settings, shared_data):
    path = shared_data / "documents" / "mrz_passporteye" / "tests" / "data" / "passport-td3.png"
    if not path.is_file():
        pytest.skip("MRZ specimen not in shared data")
    reading = read_document(path.read_bytes(), today=dt.date(2010, 1, 1), settings=settings)
    doc: Document = reading.documents[0]
    assert doc.type == "passport_td3"
    assert list(doc.mrz_lines) == ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    assert all(c.ok for c in doc.checks.values())
    assert doc.fields.birth_date == dt.date(1974, 8, 12)


def test_api_reads_and_rejects(client):
    sample = make_sample(1, "easy")
    r = client.post("/v1/documents/read", files={"file": ("card.jpg", sample.image, "image/jpeg")}, params={"today": "2026-01-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["documents"][0]["type"] == sample.sides[0]
    assert body["documents"][0]["checks"]
    r = client.post("/v1/documents/read", files={"file": ("x.txt", b"hello", "text/plain")})
    assert r.status_code == 415 and r.json()["error"]["code"] == "image_unsupported_type"
    r = client.post("/v1/documents/read")
    assert r.status_code == 422 and r.json()["error"]["code"] == "upload_missing"
    r = client.post("/v1/documents/read", files={"file": ("blank.jpg", _jpeg(np.full((500, 700, 3), 90, np.uint8)), "image/jpeg")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "document_not_found"


def test_cli_json(tmp_path):
    from typer.testing import CliRunner

    from kyc.cli import app

    sample = make_sample(1, "easy")
    path = tmp_path / "card.jpg"
    path.write_bytes(sample.image)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff truncated")
    result = CliRunner().invoke(app, ["id", "read", str(path), str(bad), "--json", "--today", "2026-01-01"])
    out = json.loads(result.stdout)
    assert out["documents"][0]["type"] == sample.sides[0]
    assert out["errors"][0]["code"] == "image_corrupt"


def test_tesseract_engine(settings):
    import shutil

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    sample = make_sample(1, "easy")
    s = settings.model_copy(update={"ocr_engine": "tesseract"})
    reading = read_document(sample.image, today=TODAY, settings=s)
    assert reading.engine == "tesseract"
    assert reading.documents and reading.documents[0].type == sample.sides[0]
