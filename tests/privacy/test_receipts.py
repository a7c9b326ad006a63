"""Consent receipts: signed, offline-verifiable, and any change breaks them (FAKE engines
are not involved: receipts need only consents)."""

from __future__ import annotations

import base64
import json

import pytest
from typer.testing import CliRunner

from kyc.consent.receipts import RECEIPT_VERSION
from kyc.vault.signing import canonical_json, load_public_key, verify_document
from tests.service.conftest import CONSENT_TEXT_SHA, POLICY_TEXT_SHA

PURPOSES = ("real_name_verification", "biometric_processing", "retain_for_review")


def _receipt(api, cid, kind="consent"):
    r = api.http.get(f"/v1/consents/{cid}/receipt", params={"kind": kind}, headers=api.headers)
    assert r.status_code == 200, r.text
    return r.json(), r.content


def test_receipt_states_what_was_agreed_and_verifies_with_the_published_key(make_api):
    api = make_api(controller_name="示例科技有限公司", controller_contact="dpo@example.cn")
    cid = api.consent("alice", purposes=PURPOSES)
    link = api.http.get(f"/v1/consents/{cid}", headers=api.headers).json()["receipt_url"]
    assert api.http.get(link, headers=api.headers).json()["payload"]["consent_id"] == cid
    doc, _ = _receipt(api, cid)
    p = doc["payload"]
    assert p["receipt_version"] == RECEIPT_VERSION and p["kind"] == "consent" and p["consent_id"] == cid
    assert p["pii_principal_id"] == "alice" and p["jurisdiction"] == "CN"
    assert p["pii_controllers"][0]["name"] == "示例科技有限公司" and p["pii_controllers"][0]["contact"] == "dpo@example.cn"
    assert p["policy"] == {"version": "2026-01", "text_sha256": POLICY_TEXT_SHA, "notice_text_sha256": CONSENT_TEXT_SHA}
    assert [x["purpose"] for x in p["services"][0]["purposes"]] == sorted(PURPOSES)
    assert p["collection_method"] == "ios_app" and p["language"] == "zh-CN" and p["sensitive"] is True
    assert "face_template" in p["spi_categories"]
    pem = api.http.get("/v1/receipts/public-key").text  # public: no key
    key = load_public_key(pem)
    assert verify_document(doc, key).ok
    # deterministic: asking again gives the same bytes
    assert _receipt(api, cid)[1] == _receipt(api, cid)[1]
    # another tenant cannot read it
    assert api.http.get(f"/v1/consents/{cid}/receipt", headers={"X-API-Key": api.other_key}).status_code == 404


def test_one_changed_byte_fails_verification(api):
    cid = api.consent("bob")
    doc, raw = _receipt(api, cid)
    key = load_public_key(api.http.get("/v1/receipts/public-key").text)
    signed = canonical_json(doc["payload"])
    assert verify_document(doc, key).ok
    # flip each of a spread of bytes of the signed payload, one at a time
    for i in range(0, len(signed), max(1, len(signed) // 40)):
        altered = bytearray(signed)
        altered[i] ^= 0x01
        try:
            payload = json.loads(bytes(altered))
        except (ValueError, UnicodeDecodeError):
            continue  # no longer JSON: cannot even be presented as a receipt
        if payload == doc["payload"]:
            continue  # a flip that JSON normalises away (does not change the statement)
        assert not verify_document({"payload": payload, "signature": doc["signature"]}, key).ok, i
    sig = bytearray(base64.b64decode(doc["signature"]["value"]))
    sig[0] ^= 0x80
    bad = {"payload": doc["payload"], "signature": {**doc["signature"], "value": base64.b64encode(bytes(sig)).decode()}}
    assert not verify_document(bad, key).ok
    # another service's key does not verify it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert not verify_document(doc, Ed25519PrivateKey.generate().public_key()).ok


def test_withdrawal_yields_its_own_receipt(api):
    cid = api.consent("carol")
    r = api.http.get(f"/v1/consents/{cid}/receipt", params={"kind": "withdrawal"}, headers=api.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "receipt_not_available"
    assert api.http.post(f"/v1/consents/{cid}/withdraw", headers=api.headers).status_code == 200
    doc, _ = _receipt(api, cid, "withdrawal")
    assert doc["payload"]["kind"] == "withdrawal" and doc["payload"]["withdrawal_timestamp"]
    key = load_public_key(api.http.get("/v1/receipts/public-key").text)
    assert verify_document(doc, key).ok
    consent_doc, _ = _receipt(api, cid)
    assert consent_doc["payload"]["receipt_id"] != doc["payload"]["receipt_id"]


def test_cli_verifies_offline_and_rejects_a_one_byte_change(api, tmp_path, monkeypatch):
    from kyc.cli import app

    cid = api.consent("dave")
    doc, raw = _receipt(api, cid)
    pem = tmp_path / "service.pem"
    pem.write_text(api.http.get("/v1/receipts/public-key").text)
    good = tmp_path / "receipt.json"
    good.write_bytes(raw)
    run = CliRunner().invoke
    res = run(app, ["consents", "verify-receipt", str(good), "--public-key", str(pem)])
    assert res.exit_code == 0, res.output
    # one byte of the file changed: "dave" -> "davf"
    bad = tmp_path / "altered.json"
    idx = raw.index(b'"dave"') + 4
    bad.write_bytes(raw[:idx] + b"f" + raw[idx + 1 :])
    res = run(app, ["consents", "verify-receipt", str(bad), "--public-key", str(pem)])
    assert res.exit_code == 1 and "INVALID" in res.output


def test_cli_exports_the_same_public_key(api, tmp_path, monkeypatch):
    from kyc.cli import app
    from kyc.config import get_settings

    settings = api.app.state.settings
    monkeypatch.setenv("KYC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KYC_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        out = tmp_path / "k.pem"
        res = CliRunner().invoke(app, ["consents", "public-key", "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert out.read_text() == api.http.get("/v1/receipts/public-key").text
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("kind", ["bogus"])
def test_unknown_kind_is_a_4xx(api, kind):
    cid = api.consent("erin")
    r = api.http.get(f"/v1/consents/{cid}/receipt", params={"kind": kind}, headers=api.headers)
    assert r.status_code == 422


def test_receipts_still_verify_after_a_kek_rotation(api):
    from kyc.vault import rotate_key_file

    cid = api.consent("frank")
    before_key = api.http.get("/v1/receipts/public-key").text
    doc, raw = _receipt(api, cid)
    rotate_key_file(api.services.db, api.app.state.settings.resolved_key_file, grace_s=0)
    assert api.http.get("/v1/receipts/public-key").text == before_key  # re-wrapped, not replaced
    assert _receipt(api, cid)[1] == raw
    assert verify_document(doc, load_public_key(before_key)).ok
