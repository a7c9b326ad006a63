"""``kyc incident report``: from the audit log and key metadata, which subjects a window,
a staff account, a client or a key could have exposed; reads no ciphertext or key; its
own run is audited. Data made through the service with FAKE engines (tests/service/fakes.py)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import event, select
from typer.testing import CliRunner

from kyc.admin.review import reveal_fields
from kyc.privacy import IncidentQuery, incident_report, notice_draft
from kyc.storage import ApiClient, AuditEntry, utcnow
from tests.service.fakes import png

ALICE = (200, 150, 120)


def _verify(api, ref, key=None):
    cid = api.consent(ref, key=key)
    r = api.verify(cid, api.fake.id_card(ALICE), png(ALICE), key=key)
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


def _ids(api):
    with api.services.db.session() as s:
        return {n: i for i, n in s.execute(select(ApiClient.id, ApiClient.name))}


def test_staff_window_lists_only_what_that_account_revealed(api):
    db, vault = api.services.db, api.services.vault
    v1 = _verify(api, "alice")
    _verify(api, "bob")
    v3 = _verify(api, "carol", key=api.other_key)
    t0 = utcnow()
    reveal_fields(db, vault, v1, ["name"], actor="staff:mallory")
    reveal_fields(db, vault, v3, None, actor="staff:mallory")
    reveal_fields(db, vault, v1, ["id_number"], actor="staff:honest")
    t1 = utcnow()
    rep = incident_report(db, IncidentQuery(t0 - timedelta(seconds=1), t1, staff="mallory"))
    clients = {c["client_name"]: c for c in rep["clients"]}
    assert set(clients) == {"app-one", "app-two"}
    assert clients["app-one"]["subject_refs"] == ["alice"] and clients["app-two"]["subject_refs"] == ["carol"]
    assert "identity_document_fields:name" in clients["app-one"]["data_categories"]
    assert "identity_document_fields:id_number" not in clients["app-one"]["data_categories"]  # honest's reveal
    assert rep["totals"] == {"subjects": 2, "clients": 2, "subjects_since_deleted": 0}
    # the window matters: before t0 mallory did nothing
    early = incident_report(db, IncidentQuery(t0 - timedelta(hours=1), t0 - timedelta(seconds=5), staff="mallory"))
    assert early["totals"]["subjects"] == 0
    # a notice draft per client names its users and the categories
    text = notice_draft(rep, clients["app-two"], controller_name="示例公司", controller_contact="dpo@example.cn")
    assert "carol" in text and "alice" not in text and "dpo@example.cn" in text and "1 of your users" in text


def test_client_and_window_filters(api):
    db = api.services.db
    t0 = utcnow() - timedelta(seconds=1)
    _verify(api, "dan")
    _verify(api, "eve", key=api.other_key)
    ids = _ids(api)
    rep = incident_report(db, IncidentQuery(t0, utcnow(), client_id=ids["app-two"]))
    assert [c["client_name"] for c in rep["clients"]] == ["app-two"] and rep["clients"][0]["subject_refs"] == ["eve"]
    assert "face_template" in rep["clients"][0]["data_categories"]
    everyone = incident_report(db, IncidentQuery(t0, utcnow()))
    assert everyone["totals"]["subjects"] == 2
    # a deleted subject is counted, not named (its ref is no longer held)
    assert api.http.delete("/v1/subjects/dan", headers=api.headers).status_code == 200
    after = incident_report(db, IncidentQuery(t0, utcnow()))
    assert after["totals"]["subjects"] == 1 and after["totals"]["subjects_since_deleted"] == 1


def test_key_id_lists_every_subject_the_kek_wraps(api):
    db, vault = api.services.db, api.services.vault
    _verify(api, "fay")
    _verify(api, "gus", key=api.other_key)
    kid = vault.ring().current_id
    rep = incident_report(db, IncidentQuery(utcnow() - timedelta(days=1), utcnow(), key_id=kid))
    assert rep["key"]["kind"] == "key-encryption key" and rep["key"]["subjects"] == 2
    assert "blind_index" in rep["key"]["service_keys"] and "face_template" in rep["key"]["categories"]
    assert sorted(r for c in rep["clients"] for r in c["subject_refs"]) == ["fay", "gus"]
    other = incident_report(db, IncidentQuery(utcnow() - timedelta(days=1), utcnow(), key_id="0123456789abcdef"))
    assert other["totals"]["subjects"] == 0 and other["key"]["kind"] == "unknown key"


def test_reads_no_ciphertext_key_or_secret_and_is_audited(api):
    db = api.services.db
    v = _verify(api, "hal")
    reveal_fields(db, api.services.vault, v, None, actor="staff:mallory")
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        rep = incident_report(db, IncidentQuery(utcnow() - timedelta(days=1), utcnow() + timedelta(seconds=1), key_id=api.services.vault.ring().current_id, staff="mallory"))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert rep["totals"]["subjects"] == 1
    sql = "\n".join(seen)
    assert "select" in sql
    for column in ("fields_ct", "template_ct", "ciphertext", "wrapped_key", "key_hash", "password_hash", "secret_ct", "masked_fields"):
        assert column not in sql, column
    with db.session() as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.action == "incident.report")).all()[-1]
    assert e.detail["filters"]["staff"] == "mallory" and e.detail["totals"]["subjects"] == 1
    assert "hal" not in json.dumps(e.detail)  # counts, never the refs


def test_cli_writes_report_and_notices(api, tmp_path, monkeypatch):
    from kyc.cli import app
    from kyc.config import get_settings

    t0 = utcnow() - timedelta(seconds=1)
    _verify(api, "ivy")
    time.sleep(0.01)
    settings = api.app.state.settings
    monkeypatch.setenv("KYC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KYC_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("KYC_CONTROLLER_CONTACT", "dpo@example.cn")
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(app, ["incident", "report", "--from", t0.isoformat(), "--to", utcnow().isoformat(), "--out", str(tmp_path / "inc")])
        assert res.exit_code == 0, res.output
        rep = json.loads((tmp_path / "inc" / "report.json").read_text())
        assert rep["clients"][0]["subject_refs"] == ["ivy"]
        notice = (tmp_path / "inc" / f"notice-{rep['clients'][0]['client_id']}.txt").read_text()
        assert "ivy" in notice and "dpo@example.cn" in notice
        zh = (tmp_path / "inc" / f"notice-{rep['clients'][0]['client_id']}.zh-CN.txt").read_text()
        assert "个人信息安全事件告知" in zh and "ivy" in zh and "人脸特征模板" in zh
        bad = CliRunner().invoke(app, ["incident", "report", "--from", "yesterday", "--to", "now"])
        assert bad.exit_code != 0 and "ISO 8601" in bad.output
    finally:
        get_settings.cache_clear()
    with api.services.db.session() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "incident.report")) == "cli"
