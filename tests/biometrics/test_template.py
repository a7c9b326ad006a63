"""Template binary format and comparison rules (no model weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

from kyc.biometrics import Template, compare_templates
from kyc.biometrics.matching import load_calibration
from kyc.errors import KycError


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=n).astype(np.float32)
    return v / np.linalg.norm(v)


def _fused(rng: np.random.Generator) -> Template:
    return Template("fused", (("dlib-resnet@0123456789ab", _unit(rng, 128)), ("mobilefacenet@ba9876543210", _unit(rng, 192))))


def test_round_trip_is_compact_and_close():
    rng = np.random.default_rng(1)
    t = _fused(rng)
    data = t.to_bytes()
    assert len(data) < 800  # a few hundred bytes, float16
    back = Template.from_bytes(data)
    assert back.model == "fused" and back.version == t.version
    for (va, a), (vb, b) in zip(t.components, back.components, strict=True):
        assert va == vb
        assert np.abs(a - b).max() < 1e-3


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: b"",
        lambda d: b"XYZ" + d[3:],
        lambda d: d[:3] + b"\x09" + d[4:],  # unknown format version
        lambda d: d[:-1],  # truncated
        lambda d: d + b"\x00",  # trailing garbage
    ],
)
def test_invalid_bytes_are_refused_with_a_code(mutate):
    data = _fused(np.random.default_rng(2)).to_bytes()
    with pytest.raises(KycError) as exc:
        Template.from_bytes(mutate(data))
    assert exc.value.code == "template_invalid"


def test_templates_of_different_models_are_never_compared():
    rng = np.random.default_rng(3)
    a = Template("dlib", (("dlib-resnet@0123456789ab", _unit(rng, 128)),))
    b = Template("mobilefacenet", (("mobilefacenet@ba9876543210", _unit(rng, 192)),))
    with pytest.raises(KycError) as exc:
        compare_templates(a, b)
    assert exc.value.code == "template_model_mismatch"
    c = Template("dlib", (("dlib-resnet@ffffffffffff", _unit(rng, 128)),))  # another file of "the same" model
    with pytest.raises(KycError) as exc:
        compare_templates(a, c)
    assert exc.value.code == "template_model_mismatch"


def test_comparison_uses_the_calibrated_threshold():
    matchers = load_calibration().matchers
    rng = np.random.default_rng(4)
    a = _fused(rng)
    same = compare_templates(a, a, "fmr_1e-3")
    assert same.match and 0.0 <= same.similarity <= 1.0
    assert same.threshold == matchers["fused"].thresholds["fmr_1e-3"]
    strict = compare_templates(a, a, "fmr_1e-4")
    assert strict.threshold >= same.threshold
    other = compare_templates(a, _fused(rng), "fmr_1e-3")  # random unit vectors: cosine near 0
    assert not other.match and other.similarity < same.similarity


def test_calibration_file_is_complete():
    cal = load_calibration()
    default, matchers = cal.default_model, cal.matchers
    assert default in cal.models
    for name in ("dlib", "mobilefacenet", "fused"):
        m = matchers[name]
        assert set(m.thresholds) == {"fmr_1e-2", "fmr_1e-3", "fmr_1e-4"}
        assert m.thresholds["fmr_1e-2"] <= m.thresholds["fmr_1e-3"] <= m.thresholds["fmr_1e-4"]
        assert all(w > 0 for w in m.weights)  # similarity rises with each cosine
