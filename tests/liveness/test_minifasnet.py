"""MiniFASNet: the torch-free checkpoint reader, the ONNX conversion against PyTorch
reference outputs, and the ``url`` model source with its mirror.

The reference outputs in ``tests/data/minifasnet_reference.json`` were computed once with
PyTorch 2.13.0 (CPU) in a throwaway virtual environment by
``scripts/minifasnet_reference.py`` (a re-implementation of the public architecture whose
parameter names must match the checkpoint exactly), on closed-form inputs that this test
rebuilds with numpy alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from kyc.config import PROJECT_ROOT, Settings
from kyc.errors import KycError
from kyc.model_registry import fetch_model, load_manifest, verify_model
from kyc.pth_reader import LEGACY_MAGIC, PthFormatError, read_legacy_state_dict

MIRROR = (PROJECT_ROOT.parent / "shared" / "models").resolve()
REFERENCE = PROJECT_ROOT / "tests" / "data" / "minifasnet_reference.json"


def _reference_inputs() -> np.ndarray:
    spec = importlib.util.spec_from_file_location("minifasnet_reference", PROJECT_ROOT / "scripts" / "minifasnet_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.reference_inputs()


@pytest.fixture(scope="module")
def mirror() -> Path:
    if not (MIRROR / "silent_face").is_dir():
        pytest.skip(f"models mirror not found at {MIRROR}")
    return MIRROR


def _legacy_file(obj_bytes: bytes) -> bytes:
    buf = io.BytesIO()
    for head in (LEGACY_MAGIC, 1001, {"little_endian": True}):
        pickle.dump(head, buf, protocol=2)
    return buf.getvalue() + obj_bytes


def test_reader_refuses_code_in_a_checkpoint(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pth"
    bad.write_bytes(_legacy_file(pickle.dumps(Evil(), protocol=2)))
    with pytest.raises(PthFormatError, match="refusing"):
        read_legacy_state_dict(bad)


def test_reader_refuses_foreign_files(tmp_path):
    for content in (b"PK\x03\x04zip", pickle.dumps(12345), b"\x00" * 10):
        p = tmp_path / "x.pth"
        p.write_bytes(content)
        with pytest.raises(PthFormatError):
            read_legacy_state_dict(p)


def test_conversion_matches_pytorch_reference(tmp_path, mirror):
    import onnxruntime as ort

    from kyc.liveness._minifasnet_onnx import convert_minifasnet

    ref = json.loads(REFERENCE.read_text())["outputs"]
    manifest = load_manifest()
    x = _reference_inputs()
    for model_id in ("minifasnet-v2", "minifasnet-v1se"):
        spec = manifest[model_id]
        pth = mirror / manifest[spec.derived_from].mirror_path
        out = tmp_path / spec.file
        convert_minifasnet(pth, out)
        # reproducible: the bytes are the ones the manifest pins
        assert hashlib.sha256(out.read_bytes()).hexdigest() == spec.sha256
        sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        probs = sess.run(None, {"input": x})[0]
        np.testing.assert_allclose(probs, np.array(ref[model_id]), atol=1e-5)
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def _url_manifest(tmp_path: Path, payload: bytes, sha: str | None = None) -> Path:
    src = tmp_path / "published" / "weights.bin"
    src.parent.mkdir(parents=True)
    src.write_bytes(payload)
    mdir = tmp_path / "manifest"
    mdir.mkdir()
    (mdir / "m.toml").write_text(
        f"""
[[model]]
id = "w"
task = "test"
file = "weights.bin"
sha256 = "{sha or hashlib.sha256(payload).hexdigest()}"
licence = "Apache-2.0"
source = {{ registry = "url", url = "{src.as_uri()}", mirror = "sub/weights.bin" }}
"""
    )
    return mdir


def test_url_source_downloads_and_checks(tmp_path):
    # models_mirror=None: download from the address even where CI sets KYC_MODELS_MIRROR.
    s = Settings(manifest_dir=_url_manifest(tmp_path, b"weights"), data_dir=tmp_path / "d", models_mirror=None)
    path = fetch_model("w", settings=s)
    assert path.read_bytes() == b"weights" and verify_model("w", s) == path
    assert load_manifest(s)["w"].source.startswith("url:file://")


def test_url_source_refuses_a_checksum_mismatch(tmp_path):
    s = Settings(manifest_dir=_url_manifest(tmp_path, b"weights", sha="0" * 64), data_dir=tmp_path / "d", models_mirror=None)
    with pytest.raises(KycError) as exc:
        fetch_model("w", settings=s)
    assert exc.value.code == "model_altered"
    assert not (s.resolved_models_dir / "weights.bin").exists()


def test_url_source_reads_the_mirror_and_names_the_fix(tmp_path):
    mdir = _url_manifest(tmp_path, b"weights")
    mirror = tmp_path / "mirror"
    s = Settings(manifest_dir=mdir, data_dir=tmp_path / "d", models_mirror=mirror)
    with pytest.raises(KycError) as exc:
        fetch_model("w", settings=s)
    assert exc.value.code == "model_mirror_missing"
    assert "file://" in exc.value.message and "KYC_MODELS_MIRROR" in exc.value.message
    (mirror / "sub").mkdir(parents=True)
    (mirror / "sub" / "weights.bin").write_bytes(b"altered")
    with pytest.raises(KycError) as exc:
        fetch_model("w", settings=s)
    assert exc.value.code == "model_altered"
    (mirror / "sub" / "weights.bin").write_bytes(b"weights")
    assert fetch_model("w", settings=s).read_bytes() == b"weights"


def test_scores_rank_a_live_selfie_above_a_phone_photo(shared_data):
    """On the Silent-Face sample images (one real, two attacks), the ONNX models put the
    real one highest."""
    from kyc.images import decode_image
    from kyc.biometrics.fast_detection import find_one_face
    from kyc.liveness._minifasnet import minifasnet_score

    folder = shared_data / "liveness" / "silent_face_samples"
    scores = {}
    for p in sorted(folder.glob("*.jpg")):
        img = decode_image(p.read_bytes())
        b = find_one_face(img)
        scores[p.name] = minifasnet_score(img, (b.x0, b.y0, b.x1, b.y1)).score
    real = [v for k, v in scores.items() if "T" in k.split("_")[-1]]
    fake = [v for k, v in scores.items() if "F" in k.split("_")[-1]]
    assert real and fake and min(real) > max(fake), scores
