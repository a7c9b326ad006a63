"""The review queue: what is in it, newest first, filters, search (id and blind index), paging."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kyc.storage import AuditEntry, utcnow


def _ids(page: str) -> list[str]:
    return re.findall(r'href="/admin/verifications/([0-9a-f]{32})"', page)


def test_queue_holds_review_and_rejected_newest_first(con):
    now = utcnow()
    old = con.seed.verification(status="review", created_at=now - timedelta(hours=3))
    rej = con.seed.verification(status="rejected", reasons=("face_mismatch",), created_at=now - timedelta(hours=2))
    new = con.seed.verification(status="review", created_at=now - timedelta(hours=1))
    con.seed.verification(status="approved", reasons=(), created_at=now)
    con.act_as("reviewer")
    page = con.http.get("/admin/queue").text
    assert _ids(page) == [new, rej, old]
    assert "张*明" in page and "1101**********002X" in page  # masked only
    assert "张三明" not in page and "11010519491231002X" not in page


def test_filters_status_reason_and_dates(con):
    now = utcnow()
    a = con.seed.verification(status="review", reasons=("duplicate_identity",), created_at=now - timedelta(days=3))
    b = con.seed.verification(status="rejected", reasons=("liveness_failed", "face_mismatch"), created_at=now - timedelta(days=1))
    c = con.seed.verification(status="review", reasons=("face_mismatch_borderline",), created_at=now)
    con.act_as("reviewer")
    get = lambda q: _ids(con.http.get("/admin/queue?" + q).text)  # noqa: E731
    assert get("status=rejected") == [b]
    assert get("status=review") == [c, a]
    assert get("reason=face_mismatch") == [b]  # not face_mismatch_borderline
    assert get("reason=face_mismatch_borderline") == [c]
    day = lambda d: (now - timedelta(days=d)).date().isoformat()  # noqa: E731
    assert get(f"since={day(1)}") == [c, b]
    assert get(f"until={day(2)}") == [a]
    assert get(f"since={day(3)}&until={day(1)}") == [b, a]
    r = con.http.get(f"/admin/queue?since={day(0)}&until={day(2)}")
    assert r.status_code == 422 and "start date is after" in r.text


def test_decided_ones_leave_the_default_view(con):
    v = con.seed.verification(status="rejected", reasons=("face_mismatch",))
    w = con.seed.verification(status="review")
    from kyc.admin import record_decision

    record_decision(con.db, v, "reject", "confirmed mismatch", reviewer="r", actor="staff:r")
    record_decision(con.db, w, "approve", "same person", reviewer="r", actor="staff:r")
    con.act_as("reviewer")
    assert _ids(con.http.get("/admin/queue").text) == []
    assert _ids(con.http.get("/admin/queue?decided=decided").text) == [v]  # approved left the queue entirely


def test_search_by_verification_id_and_by_id_number_through_the_blind_index(con):
    a = con.seed.verification(id_number="11010519491231002X")
    b = con.seed.verification(id_number="110105194912310011", name="李四")
    c = con.seed.verification(id_number="11010519491231002X", name="张三明")  # the same number, another subject
    con.act_as("reviewer")
    assert _ids(con.http.get(f"/admin/queue?q={b}").text) == [b]
    page = con.http.get("/admin/queue?q=1101 0519 4912 3100 2x").text  # spaces and lower case normalised
    assert _ids(page) == [c, a] and "blind index" in page
    assert _ids(con.http.get("/admin/queue?q=110105194912319999").text) == []
    assert con.http.get("/admin/queue?q=" + "%3Cscript%3E").status_code == 422
    # The search is audited, the number typed is not.
    with con.db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.queue")).all()
        assert {e.actor for e in entries} == {"staff:reviewer1"}
        assert "id_number" in [e.detail.get("search") for e in entries]
        for e in entries:
            assert "1101" not in str(e.detail)


def test_paging(con):
    now = utcnow()
    ids = [con.seed.verification(created_at=now - timedelta(minutes=i)) for i in range(7)]  # newest first
    con.act_as("reviewer")
    one = con.http.get("/admin/queue").text
    two = con.http.get("/admin/queue?page=2").text
    assert _ids(one) == ids[:5] and _ids(two) == ids[5:]  # page size 5 in the tests
    assert "Page 1 of 2" in one and 'rel="next"' in one and 'rel="prev"' not in one
    assert "Page 2 of 2" in two and 'rel="prev"' in two
    assert _ids(con.http.get("/admin/queue?status=review&page=2").text) == ids[5:]


@pytest.mark.postgres
def test_queue_filters_search_and_decision_on_postgres(make_console, pg_url):
    from kyc.admin import record_decision

    con = make_console(database_url=pg_url)
    now = utcnow()
    a = con.seed.verification(reasons=("face_mismatch_borderline",), created_at=now - timedelta(days=1), images=("selfie",))
    b = con.seed.verification(status="rejected", reasons=("face_mismatch",), id_number="110105194912310011")
    con.act_as("reviewer")
    assert _ids(con.http.get("/admin/queue").text) == [b, a]
    assert _ids(con.http.get("/admin/queue?reason=face_mismatch").text) == [b]
    assert _ids(con.http.get("/admin/queue?q=110105194912310011").text) == [b]
    assert _ids(con.http.get(f"/admin/queue?until={(now - timedelta(days=1)).date()}").text) == [a]
    record_decision(con.db, a, "approve", "ok", reviewer="reviewer1", actor="staff:reviewer1")
    assert _ids(con.http.get("/admin/queue").text) == [b]


def test_pager_links_keep_the_filters_url_encoded(con):
    for _ in range(6):
        con.seed.verification(id_number="11010519491231002X")
    con.act_as("reviewer")
    page = con.http.get("/admin/queue?q=1101+0519+4912+3100+2X&status=review").text
    assert 'href="/admin/queue?status=review&amp;decided=undecided&amp;q=1101+0519+4912+3100+2X&amp;page=2"' in page
    assert len(_ids(con.http.get("/admin/queue?status=review&q=1101+0519+4912+3100+2X&page=2").text)) == 1


def test_public_surface():
    import kyc.admin

    for name in kyc.admin.__all__:
        assert hasattr(kyc.admin, name), name


def test_bad_query_values_get_a_422_page_not_a_500(con):
    con.act_as("reviewer")
    for q in ("since=yesterday", "status=approved", "decided=maybe", "page=0", "q=" + "x" * 65):
        r = con.http.get("/admin/queue?" + q)
        assert r.status_code == 422 and 'data-code="validation_failed"' in r.text, q
    con.act_as(None)
    assert con.http.get("/admin/queue?since=yesterday", follow_redirects=False).status_code in (303, 422)
