"""duplicate_identity is per client by default (no cross-tenant leak); across clients
only with KYC_DUPLICATE_SCOPE=all_clients. Real service, FAKE engines (fakes.py)."""

from __future__ import annotations

from tests.service.fakes import png

ALICE = (200, 150, 120)  # a "person" of the fake engines (a colour)


def _approve_at_client_a_then_try_at_b(api):
    a = api.consent("alice")
    assert api.verify(a, api.fake.id_card(ALICE), png(ALICE)).json()["status"] == "approved"
    b = api.consent("someone-else", key=api.other_key)
    return api.verify(b, api.fake.id_card(ALICE, marker=3), png(ALICE, marker=3), key=api.other_key).json()


def test_another_clients_approval_is_not_revealed(api):
    r = _approve_at_client_a_then_try_at_b(api)
    assert "duplicate_identity" not in r["reasons"] and r["status"] == "approved"


def test_cross_client_duplicates_only_when_configured(make_api):
    api = make_api(duplicate_scope="all_clients")
    r = _approve_at_client_a_then_try_at_b(api)
    assert "duplicate_identity" in r["reasons"] and r["status"] == "review"
