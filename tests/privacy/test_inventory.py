"""Minimum collection, checked: every column is declared in the data inventory, personal
data is only in encrypted (or declared masked/pseudonymous) columns, and the README's list
is generated from the inventory. The service run uses FAKE engines (tests/service/fakes.py)."""

from __future__ import annotations

import json

from sqlalchemy import JSON, LargeBinary, String, Text, select

import kyc.storage  # noqa: F401  (every model on Base.metadata)
from kyc.config import PROJECT_ROOT
from kyc.privacy.inventory import INVENTORY, README_END, README_START, inventory_markdown
from kyc.storage import Base
from tests.service.fakes import png

ALICE = (200, 150, 120)
NAME, ID_NUMBER, ADDRESS, BIRTH = "张三明", "11010519491231183X", "北京市东城区某某路1号", "1949-12-31"


def _columns():
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            yield table.name, col


def test_every_column_is_declared_and_nothing_stale():
    missing = [f"{t}.{c.name}" for t, c in _columns() if t not in INVENTORY or c.name not in INVENTORY[t].columns]
    assert not missing, (
        f"columns not in the data inventory: {missing}. Declare each in kyc/privacy/inventory.py as encrypted, masked, "
        "derived, ... (and encrypt it if it can hold personal data), then run `kyc privacy inventory --write-readme`."
    )
    real = {(t, c.name) for t, c in _columns()}
    stale = [f"{t}.{c}" for t, tbl in INVENTORY.items() for c in tbl.columns if (t, c) not in real]
    assert not stale, f"inventory entries without a column: {stale}"


def test_declared_kinds_fit_the_column_types():
    for t, col in _columns():
        decl = INVENTORY[t].columns[col.name]
        if decl.kind == "encrypted":
            assert isinstance(col.type, LargeBinary), f"{t}.{col.name} is declared encrypted but is not a binary ciphertext column"
        free_form = isinstance(col.type, (JSON, Text)) or (isinstance(col.type, String) and (col.type.length or 10_000) > 64)
        if free_form and decl.kind in ("operational", "derived"):
            assert decl.why, f"{t}.{col.name} can hold any text: say why it holds no personal data"


def test_a_service_run_leaves_no_personal_data_outside_encrypted_columns(make_api):
    """Every table, every column, after consent, verification, retained images, review,
    notices and an export: no name, ID number, address or birth date in plain."""
    from kyc.admin.review import record_decision, reveal_fields
    from kyc.admin.webhooks import set_webhook

    api = make_api()
    db = api.services.db
    with db.session() as s:
        from kyc.storage import ApiClient

        client_id = s.scalar(select(ApiClient.id).where(ApiClient.name == "app-one"))
    set_webhook(db, api.services.vault, api.app.state.settings, client_id, "http://127.0.0.1:9/none", actor="test")
    cid = api.consent("subject-1", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    vid = api.verify(cid, front, png(ALICE), back=api.fake.id_back()).json()["id"]
    reveal_fields(db, api.services.vault, vid, None, actor="staff:rita")
    record_decision(db, vid, "approve", "document checked", reviewer="rita", actor="staff:rita")
    assert api.http.get("/v1/subjects/subject-1/export", headers=api.headers).status_code == 200
    cid2 = api.consent("subject-2")
    api.verify(cid2, api.fake.id_card(ALICE, marker=2), png(ALICE))
    api.http.post(f"/v1/consents/{cid2}/withdraw", headers=api.headers)
    needles = [NAME, ID_NUMBER, ADDRESS, BIRTH, "19491231"]
    needles += [json.dumps(n)[1:-1] for n in needles]  # as JSON columns escape them
    found = []
    seen_values = 0
    with db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                for name, value in row.items():
                    if value is None:
                        continue
                    seen_values += 1
                    text = value.decode("latin-1") if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False, default=str)
                    text += json.dumps(value, default=str) if not isinstance(value, bytes) else ""
                    found += [f"{table.name}.{name}: {n!r}" for n in needles if n in text]
    assert seen_values > 100
    assert not found, f"personal data in plain: {found}"
    # the check can fail: the masked form is there, and the export (decrypted) has the name
    with db.session() as s:
        from kyc.storage import Verification

        assert "*" in json.dumps(s.get(Verification, vid).masked_fields, ensure_ascii=False)


def test_readme_list_is_generated_from_the_inventory():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert README_START in readme and README_END in readme
    block = readme.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert block == inventory_markdown().strip(), "README.md's data list is stale: run `kyc privacy inventory --write-readme`"
