"""subject_ref: one normalisation rule on write and lookup (kyc/subjects/refs.py); the
path form takes any valid ref, the query form too. Real service, FAKE engines."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from kyc.errors import KycError
from kyc.subjects import normalize_subject_ref

GOOD = ["acct/42", "50%off", "user 7", "用户-42", "  padded  ", "x%2Fy", "a+b=c&d?e#f", "Ünïcödé"]
BAD = ["", "   ", "nul\x00byte", "bidi\u202eevil", "zero\u200bwidth", "line\u2028sep", "bom\ufeff", "x" * 201, "tab\tbed"]


@pytest.mark.parametrize("ref", GOOD)
def test_any_valid_ref_can_be_exported_and_erased(api, ref):
    cid = api.consent(ref)
    stored = api.http.get(f"/v1/consents/{cid}", headers=api.headers).json()["subject_ref"]
    assert stored == normalize_subject_ref(ref)
    # the query form, with the ref exactly as the client gave it
    r = api.http.get("/v1/subjects/export", params={"subject_ref": ref}, headers=api.headers)
    assert r.status_code == 200, r.text
    assert r.json()["subject_ref"] == stored
    # the path form, URL-encoded (what generated clients send) ...
    r = api.http.get(f"/v1/subjects/{quote(ref, safe='')}/export", headers=api.headers)
    assert r.status_code == 200, r.text
    # ... and deletion through the path, with `/` left as is
    r = api.http.delete(f"/v1/subjects/{quote(ref, safe='/')}", headers=api.headers)
    assert r.status_code == 200 and r.json()["deleted"] is True, r.text
    r = api.http.get("/v1/subjects/export", params={"subject_ref": ref}, headers=api.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "subject_not_found"


@pytest.mark.parametrize("ref", BAD, ids=[repr(r)[:20] for r in BAD])
def test_invalid_refs_are_refused_on_write_and_lookup(api, ref):
    body = {
        "subject_ref": ref,
        "purposes": ["real_name_verification", "biometric_processing"],
        "policy_version": "2026-01",
        "locale": "zh-CN",
        "channel": "ios_app",
        "text_sha256": "0" * 64,
    }
    r = api.http.post("/v1/consents", json=body, headers=api.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] in ("validation_failed", "subject_ref_invalid"), r.text
    if ref:
        r = api.http.get("/v1/subjects/export", params={"subject_ref": ref}, headers=api.headers)
        assert r.status_code == 422, r.text
    with pytest.raises(KycError) as exc:
        normalize_subject_ref(ref)
    assert exc.value.code == "subject_ref_invalid"


def test_normalisation_is_nfc_and_trim():
    assert normalize_subject_ref("  e\u0301  ") == "\u00e9"
    assert normalize_subject_ref("用户 42") == "用户 42"
