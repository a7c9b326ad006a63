"""Pure parts: masking, decision rules, the pipeline's evidence (FAKE engines)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from kyc.errors import KycError
from kyc.verification import DecisionRules, Evidence, VerificationInput, decide, load_rules, mask_id_number, mask_name, run_pipeline
from kyc.verification.masking import mask_fields
from tests.service.fakes import FakeEngines, png


@pytest.mark.parametrize("name,masked", [("张三明", "张*明"), ("欧阳小明", "欧**明"), ("张三", "张*"), ("王", "*"), ("JOHN SMITH", "J********H")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_id_number():
    assert mask_id_number("11010519491231183X") == "1101**********183X"
    assert mask_id_number("E1234567") == "******67"
    assert mask_fields({"name": "张三明", "address": "北京", "id_number": None}) == {"name": "张*明"}


def _good() -> Evidence:
    return Evidence(
        document_type="cn_id_front",
        fields={"name": "张三明", "id_number": "11010519491231183X"},
        confidence={"name": 0.99, "id_number": 0.99},
        face={"similarity": 0.95, "threshold": 0.9, "match": True, "model": "m", "operating_point": "fmr_1e-3"},
        liveness={"kind": "passive", "live": True, "score": 0.9, "threshold": 0.5, "model": "l"},
    )


def replace_face(ev, **face):
    from copy import deepcopy

    out = deepcopy(ev)
    out.face = {**out.face, **face}
    return out


def test_decisions_follow_the_rules():
    rules = DecisionRules()
    assert decide(_good(), rules).status == "approved"
    ev = _good()
    ev.face = {**ev.face, "match": False, "similarity": 0.87}
    d = decide(ev, rules)
    assert (d.status, d.reasons) == ("review", ["face_mismatch_borderline"])
    ev.face = {**ev.face, "similarity": 0.5}
    assert decide(ev, rules).reasons == ["face_mismatch"] and decide(ev, rules).status == "rejected"
    # a low-quality portrait: the same mismatch goes to review, saying why
    low = replace_face(ev, portrait_band="low", portrait_band_reasons=["portrait_blurred"])
    d = decide(low, rules)
    assert (d.status, d.reasons) == ("review", ["face_mismatch_low_quality_portrait"])
    assert d.scores["face"]["portrait_band"] == "low"  # the decision reports the band it used
    good = replace_face(ev, portrait_band="good", portrait_band_reasons=[])
    assert decide(good, rules).status == "rejected"
    matched = replace_face(_good(), portrait_band="low", portrait_band_reasons=["portrait_small"])
    assert decide(matched, rules).status == "approved"  # a match on a poor portrait stands
    ev = _good()
    ev.failed_checks = [("something_new", "brand_new_code")]
    assert decide(ev, rules).status == "review"  # unknown failures are never approved
    assert decide(ev, replace(rules, reject=rules.reject | {"brand_new_code"})).status == "rejected"
    ev = _good()
    ev.confidence["name"] = 0.5
    assert decide(ev, rules).reasons == ["document_low_confidence"]
    ev = _good()
    ev.fields["id_number"] = None
    assert "document_fields_missing" in decide(ev, rules).reasons
    ev = _good()
    ev.liveness = None
    assert decide(ev, rules).status == "review"


def test_rules_load_from_toml(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('face_operating_point = "fmr_1e-4"\nreject = ["face_mismatch"]\nmin_field_confidence = 0.9\n')
    rules = load_rules(path)
    assert rules.face_operating_point == "fmr_1e-4" and rules.reject == frozenset({"face_mismatch"})
    path.write_text("typo = 1\n")
    with pytest.raises(ValueError):
        load_rules(path)


def test_pipeline_merges_the_back_and_reports_a_missing_portrait():
    fake = FakeEngines()
    colour = (200, 150, 120)
    front = fake.id_card(colour)
    result = run_pipeline(VerificationInput(front, fake.id_back(), png(colour)), fake.engines(), DecisionRules())
    ev = result.evidence
    assert ev.fields["issuing_authority"] == "北京市公安局东城分局" and ev.fields["name"] == "张三明"
    assert ev.face["match"] and result.selfie_template.startswith(b"FAKETPL1")
    doc = next(iter(fake.documents.values()))
    doc.portrait = None
    # Without a portrait crop the largest face in the front photo stands in for it ...
    ev = run_pipeline(VerificationInput(front, None, png(colour)), fake.engines(), DecisionRules()).evidence
    assert ev.face_problem is None and ev.face["match"]
    # ... and a front photo without any face is a missing portrait, sent to review.
    dark = fake.id_card((0, 0, 0), marker=3)
    fake.documents[hashlib.sha256(dark).hexdigest()].portrait = None
    ev = run_pipeline(VerificationInput(dark, None, png(colour)), fake.engines(), DecisionRules()).evidence
    assert ev.face is None and ev.face_problem == "id_portrait_missing"
    assert decide(ev, DecisionRules()).status == "review"


def test_pipeline_takes_the_document_from_the_back_when_the_front_has_none():
    """FAKE engines: an ID card whose MRZ is on the back (TD1) and whose front the reader
    cannot parse; the back's reading is the document, the front photo gives the portrait."""
    fake = FakeEngines()
    colour = (200, 150, 120)
    back = fake.id_card(colour, marker=4)
    fake.documents[hashlib.sha256(back).hexdigest()].type = "mrz_td1"
    fake.documents[hashlib.sha256(back).hexdigest()].portrait = None
    front_photo = png(colour, (200, 126), 5)  # unknown to the reader: document_not_found
    result = run_pipeline(VerificationInput(front_photo, back, png(colour)), fake.engines(), DecisionRules())
    assert result.evidence.document_type == "mrz_td1" and result.evidence.face["match"]
    with pytest.raises(KycError) as exc:
        run_pipeline(VerificationInput(front_photo, None, png(colour)), fake.engines(), DecisionRules())
    assert exc.value.code == "document_not_found"


def test_pipeline_with_an_active_liveness_session():
    """FAKE engines plus a fake session store: the best frame is the selfie, liveness is active."""
    from dataclasses import dataclass

    import numpy as np

    fake = FakeEngines()
    colour = (200, 150, 120)
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:] = colour[::-1]

    @dataclass
    class Active:
        live: bool
        score: float
        reasons: list
        best_frame: np.ndarray
        model: str = "fake-active"

    taken = []

    def take(session_id):
        taken.append(session_id)
        return Active(True, 0.97, [], frame)

    engines = replace(fake.engines(), take_active=take)
    ev = run_pipeline(VerificationInput(fake.id_card(colour), None, None, "sess-1"), engines, DecisionRules()).evidence
    assert taken == ["sess-1"] and ev.liveness["kind"] == "active" and ev.liveness["threshold"] is None
    assert ev.face["match"] and decide(ev, DecisionRules()).status == "approved"
