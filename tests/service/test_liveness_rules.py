"""What liveness evidence may approve (``liveness_evidence``) and what the response says."""

from __future__ import annotations

import pytest

from kyc.verification.decision import DecisionRules, Evidence, decide, liveness_findings, load_rules


def _ev(liveness):
    return Evidence(
        document_type="cn_id_front",
        fields={"name": "x", "id_number": "y"},
        face={"similarity": 0.95, "threshold": 0.5, "match": True, "model": "m", "operating_point": "fmr_1e-3"},
        liveness=liveness,
    )


PASSIVE_LIVE = {"kind": "passive", "live": True, "outcome": "live", "score": 0.99, "threshold": 0.5}
PASSIVE_WEAK = {"kind": "passive", "live": False, "outcome": "weak", "score": 0.4, "threshold": 0.5}
PASSIVE_SPOOF = {"kind": "passive", "live": False, "outcome": "spoof", "score": 0.01, "threshold": 0.5}
PASSIVE_RETAKE = {"kind": "passive", "live": False, "outcome": "retake", "reasons": ["image_grayscale"], "score": 0.0, "threshold": 0.5}
ACTIVE_LIVE = {"kind": "active", "live": True, "score": 0.8, "passive": {"outcome": "live"}}
ACTIVE_LIVE_WEAK_FRAME = {"kind": "active", "live": True, "score": 0.8, "passive": {"outcome": "weak"}}
ACTIVE_FAILED = {"kind": "active", "live": False, "score": 0.1, "passive": {"outcome": "spoof"}}


def test_default_only_an_active_session_approves():
    rules = DecisionRules()
    assert rules.liveness_evidence == "active"
    assert decide(_ev(ACTIVE_LIVE), rules).status == "approved"
    d = decide(_ev(PASSIVE_LIVE), rules)
    assert d.status == "review" and d.reasons == ["liveness_passive_only"]
    assert d.scores["liveness_evidence"] == {"evidence": "passive", "passive_outcome": "live", "may_approve": "active", "sufficient": False}


@pytest.mark.parametrize("setting", ["active", "passive", "either"])
def test_weak_passive_evidence_never_approves_and_spoofs_reject(setting):
    rules = DecisionRules(liveness_evidence=setting)
    weak = decide(_ev(PASSIVE_WEAK), rules)
    assert weak.status == "review" and weak.reasons == ["liveness_weak"]
    assert decide(_ev(PASSIVE_SPOOF), rules).reasons == ["liveness_failed"]
    assert decide(_ev(PASSIVE_SPOOF), rules).status == "rejected"
    retake = decide(_ev(PASSIVE_RETAKE), rules)
    assert retake.reasons == ["liveness_retake"] and retake.status == "rejected"
    assert decide(_ev(ACTIVE_FAILED), rules).status == "rejected"


def test_either_and_passive_settings():
    either = DecisionRules(liveness_evidence="either")
    assert decide(_ev(PASSIVE_LIVE), either).status == "approved"
    assert decide(_ev(ACTIVE_LIVE_WEAK_FRAME), either).status == "approved"
    passive = DecisionRules(liveness_evidence="passive")
    assert decide(_ev(PASSIVE_LIVE), passive).status == "approved"
    assert liveness_findings(ACTIVE_LIVE_WEAK_FRAME, passive) == ["liveness_weak"]
    assert decide(_ev(ACTIVE_LIVE), passive).scores["liveness_evidence"]["sufficient"]


def test_rules_file_sets_and_checks_the_evidence(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text('liveness_evidence = "either"\n')
    assert load_rules(p).liveness_evidence == "either"
    p.write_text('liveness_evidence = "selfie"\n')
    with pytest.raises(ValueError, match="liveness_evidence"):
        load_rules(p)
