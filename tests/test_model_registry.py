import hashlib
import importlib.metadata
from pathlib import Path

import pytest

from kyc.config import Settings
from kyc.errors import KycError
from kyc.model_registry import fetch_model, load_manifest, onnx_providers, verify_model


def _manifest(tmp_path: Path, sha: str) -> Path:
    """A one-model manifest pointing at a small file inside an installed wheel."""
    mdir = tmp_path / "manifest"
    mdir.mkdir()
    (mdir / "test.toml").write_text(
        f"""
[[model]]
id = "rapidocr-config"
task = "test"
file = "config.yaml"
sha256 = "{sha}"
licence = "Apache-2.0"
source = {{ registry = "pypi", package = "rapidocr", version = "{importlib.metadata.version('rapidocr')}", member = "rapidocr/config.yaml" }}
"""
    )
    return mdir


def _installed_config_sha() -> str:
    dist = importlib.metadata.distribution("rapidocr")
    f = next(f for f in dist.files if str(f).endswith("rapidocr/config.yaml"))
    return hashlib.sha256(Path(dist.locate_file(f)).read_bytes()).hexdigest()


def test_fetch_verify_and_detect_tampering(tmp_path):
    s = Settings(manifest_dir=_manifest(tmp_path, _installed_config_sha()), data_dir=tmp_path / "d")
    with pytest.raises(KycError) as exc:
        verify_model("rapidocr-config", s)
    assert exc.value.code == "model_missing" and "kyc models fetch" in exc.value.message

    path = fetch_model("rapidocr-config", settings=s)
    assert path.is_file() and verify_model("rapidocr-config", s) == path

    path.write_text("tampered")
    with pytest.raises(KycError) as exc:
        verify_model("rapidocr-config", s)
    assert exc.value.code == "model_altered" and "--force" in exc.value.message

    fetch_model("rapidocr-config", force=True, settings=s)
    assert verify_model("rapidocr-config", s) == path


def test_fetch_refuses_a_checksum_mismatch(tmp_path):
    s = Settings(manifest_dir=_manifest(tmp_path, "0" * 64), data_dir=tmp_path / "d")
    with pytest.raises(KycError) as exc:
        fetch_model("rapidocr-config", settings=s)
    assert exc.value.code == "model_altered"
    assert not (s.resolved_models_dir / "config.yaml").exists()


def test_project_manifest_is_complete():
    specs = load_manifest(Settings())
    assert specs, "the manifest lists no models"
    for spec in specs.values():
        assert len(spec.sha256) == 64 and spec.licence and spec.source
        assert spec.io, f"{spec.id} has no input/output spec"


def test_provider_choice():
    assert onnx_providers(Settings(onnx_provider="cpu")) == ["CPUExecutionProvider"]
    assert onnx_providers(Settings(onnx_provider="auto"))[-1] == "CPUExecutionProvider"
