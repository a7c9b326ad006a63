"""The cascade: the fast model decides outside the band, the fusion inside it; the band
fitted on scores keeps the fusion's error rates; batched embeddings equal single ones."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.face_cascade import FMR_TOLERANCE, band_share, cascade_accepts, fit_band
from kyc.biometrics import matching
from kyc.biometrics.matching import CASCADE, Calibration, Cascade, compare_templates, load_calibration
from kyc.biometrics.template import Template


def _scores(rng, n_gen=3000, n_imp=300_000):
    """Two correlated matchers: the second (the 'fusion') separates better."""
    g = rng.normal(size=(n_gen, 2))
    i = rng.normal(size=(n_imp, 2))
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    gen1 = sig(4.0 + 1.2 * g[:, 0])
    gen2 = sig(5.0 + 0.8 * g[:, 0] + 0.6 * g[:, 1])
    imp1 = sig(-1.0 + 1.0 * i[:, 0])
    imp2 = sig(-1.0 + 0.7 * i[:, 0] + 0.5 * i[:, 1])
    return gen1, gen2, imp1, imp2


def _threshold(imp, fmr):
    return float(np.sort(imp)[::-1][int(fmr * len(imp))]) + 1e-12


def test_fitted_band_keeps_the_fusions_error_rates_and_skips_most_comparisons():
    rng = np.random.default_rng(0)
    gen1, gen2, imp1, imp2 = _scores(rng)
    fmr = 1e-3
    t1, t2 = _threshold(imp1, fmr), _threshold(imp2, fmr)
    band = fit_band(gen1, gen2, imp1, imp2, t2, fmr, t1, margin=0.001)
    assert band.low <= t1 <= band.high
    assert band.fnmr <= band.fnmr_full + 0.001 + 1e-12
    assert band.fmr <= FMR_TOLERANCE * fmr
    assert band.share_genuine < 0.5 and band.share_impostor < 0.2
    # on fresh data from the same distributions the band generalises
    g1, g2, i1, i2 = _scores(np.random.default_rng(1))
    fnmr = np.mean(~cascade_accepts(g1, g2, band.low, band.high, t2))
    assert fnmr <= np.mean(g2 < t2) + 0.003
    assert np.mean(cascade_accepts(i1, i2, band.low, band.high, t2)) <= 1.5 * fmr
    assert band_share(g1, band.low, band.high) == pytest.approx(band.share_genuine, abs=0.05)


def test_no_band_meets_the_constraints_then_the_second_model_always_decides():
    rng = np.random.default_rng(2)
    gen1, gen2, imp1, imp2 = _scores(rng, n_gen=500, n_imp=20_000)
    # a first matcher that is pure noise cannot decide anything alone
    gen1 = rng.uniform(size=len(gen1))
    imp1 = rng.uniform(size=len(imp1))
    fmr = 1e-3
    band = fit_band(gen1, gen2, imp1, imp2, _threshold(imp2, fmr), fmr, _threshold(imp1, fmr), margin=0.0)
    assert band.share_genuine > 0.9


@pytest.fixture
def cascade_calibration(monkeypatch):
    """The shipped matchers with a cascade whose band is set by the test."""
    base = load_calibration()

    def install(low: float, high: float) -> Calibration:
        bands = {op: (low, high) for op in matching.OPERATING_POINTS}
        cal = Calibration(CASCADE, base.matchers, Cascade("mobilefacenet", "fused", bands), base.flip)
        monkeypatch.setattr(matching, "load_calibration", lambda path=None: cal)
        return cal

    return install


def _unit(rng, n):
    v = rng.normal(size=n).astype(np.float32)
    return v / np.linalg.norm(v)


def _cascade_pair(rng, mfn_cos: float):
    """Two cascade templates (MobileFaceNet only) with a chosen cosine."""
    a = _unit(rng, 192)
    r = _unit(rng, 192)
    r = r - a * float(a @ r)
    r /= np.linalg.norm(r)
    b = mfn_cos * a + np.sqrt(1 - mfn_cos**2) * r
    v = "mobilefacenet@feb4ade8f141"
    return Template(CASCADE, ((v, a),)), Template(CASCADE, ((v, b.astype(np.float32)),))


def test_cascade_decides_with_the_first_model_outside_the_band(cascade_calibration):
    cascade_calibration(0.2, 0.98)
    rng = np.random.default_rng(3)
    calls = []

    def complete(a, b, ids):
        calls.append(ids)
        raise AssertionError("the second model must not run outside the band")

    hi_a, hi_b = _cascade_pair(rng, 0.95)  # MobileFaceNet similarity ~1: accepted at once
    c = compare_templates(hi_a, hi_b, "fmr_1e-3", complete=complete)
    assert c.match and c.stage == "mobilefacenet" and c.model == CASCADE
    lo_a, lo_b = _cascade_pair(rng, 0.0)  # ~0.0006: rejected at once
    c = compare_templates(lo_a, lo_b, "fmr_1e-3", complete=complete)
    assert not c.match and c.stage == "mobilefacenet"
    assert calls == []


def test_cascade_runs_the_fusion_inside_the_band(cascade_calibration):
    cal = cascade_calibration(0.0, 2.0)  # everything is in the band
    rng = np.random.default_rng(4)
    a, b = _cascade_pair(rng, 0.5)
    d = _unit(rng, 128)
    dv = "dlib-resnet@55533b28a958"

    def complete(x, y, ids):
        assert ids == ("dlib-resnet", "mobilefacenet")
        add = lambda t: Template(t.model, ((dv, d), *t.components))  # noqa: E731
        return add(x), add(y)

    c = compare_templates(a, b, "fmr_1e-3", complete=complete)
    fused = cal.matchers["fused"]
    want = float(fused.similarity(np.array([1.0, 0.5])))
    assert c.stage == "fused" and c.similarity == pytest.approx(want, rel=1e-5)
    assert c.threshold == fused.thresholds["fmr_1e-3"] and c.match == (want >= c.threshold)


def test_a_stored_cascade_template_cannot_be_completed(cascade_calibration):
    cascade_calibration(0.0, 2.0)
    a, b = _cascade_pair(np.random.default_rng(5), 0.5)
    a = Template.from_bytes(a.to_bytes())
    with pytest.raises(Exception) as exc:
        compare_templates(a, b, "fmr_1e-3")
    assert getattr(exc.value, "code", None) == "template_invalid"


def test_batched_embeddings_equal_one_by_one(lfw_pair):
    from kyc.biometrics.detection import detect_faces
    from kyc.biometrics.embedding import get_embedder

    crops = [(np.ascontiguousarray(img[:, :, ::-1]), detect_faces(img)[0]) for img in lfw_pair[:2]]
    for name in ("mobilefacenet", "dlib"):
        emb = get_embedder(name)
        both = emb.embed_batch(crops, flip=True)
        for k, (rgb, face) in enumerate(crops):
            assert np.allclose(both[k], emb.embed(rgb, face), atol=2e-5)
            plain = emb.embed_batch([(rgb, face)], flip=False)[0]
            assert np.allclose(plain, emb.embed_views(rgb, face)[0], atol=2e-5)


def test_compare_faces_cascade_on_real_faces(lfw_pair, cascade_calibration):
    """Inside the band (everything, here) the cascade gives the fusion's similarity."""
    from kyc.biometrics.pipeline import compare_faces, extract_template

    cascade_calibration(0.0, 2.0)
    m = compare_faces(lfw_pair[0], lfw_pair[1], model=CASCADE)
    full = compare_templates(extract_template(lfw_pair[0], model="fused"), extract_template(lfw_pair[1], model="fused"))
    assert m.comparison.stage == "fused" and m.comparison.match
    assert m.comparison.similarity == pytest.approx(full.similarity, abs=1e-4)
    assert [v.split("@")[0] for v, _ in m.template_a.components] == ["dlib-resnet", "mobilefacenet"]
    cascade_calibration(0.0, 0.0)  # nothing in the band: MobileFaceNet alone, no dlib component made
    m = compare_faces(lfw_pair[0], lfw_pair[2], model=CASCADE)
    assert m.comparison.stage == "mobilefacenet" and m.comparison.match  # high=0: every pair accepted
    assert [v.split("@")[0] for v, _ in m.template_a.components] == ["mobilefacenet"]
