"""Model files shipped in the repository (`registry = "project"`), as the passive weights."""

import hashlib

import pytest

from kyc.config import Settings
from kyc.errors import KycError
from kyc.model_registry import fetch_model, verify_model


def manifest(tmp_path, path: str, sha: str):
    mdir = tmp_path / "manifest"
    (mdir / "weights").mkdir(parents=True)
    (mdir / "weights" / "w.json").write_text('{"coef": [1, 2]}')
    (mdir / "t.toml").write_text(
        f"""
[[model]]
id = "w"
task = "test"
file = "w.json"
sha256 = "{sha}"
licence = "Apache-2.0"
source = {{ registry = "project", path = "{path}" }}
"""
    )
    return Settings(manifest_dir=mdir, data_dir=tmp_path / "d")


def test_project_file_is_copied_and_verified(tmp_path):
    sha = hashlib.sha256(b'{"coef": [1, 2]}').hexdigest()
    s = manifest(tmp_path, "weights/w.json", sha)
    path = fetch_model("w", settings=s)
    assert path.read_text() == '{"coef": [1, 2]}' and verify_model("w", s) == path
    path.write_text("{}")
    with pytest.raises(KycError) as exc:
        verify_model("w", s)
    assert exc.value.code == "model_altered"


def test_project_file_with_a_wrong_checksum_is_refused(tmp_path):
    s = manifest(tmp_path, "weights/w.json", "0" * 64)
    with pytest.raises(KycError) as exc:
        fetch_model("w", settings=s)
    assert exc.value.code == "model_altered"


def test_project_path_must_stay_inside_the_manifest_folder(tmp_path):
    s = manifest(tmp_path, "../outside.json", "0" * 64)
    (tmp_path / "outside.json").write_text("x")
    with pytest.raises(FileNotFoundError):
        fetch_model("w", settings=s)
