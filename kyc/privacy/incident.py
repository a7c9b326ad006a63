"""Incident reports: which subjects' data a window, a key, a staff account or a client
could have exposed, from the audit log and the vault's key metadata.

It reads the audit entries of the window, the subjects' ids, client ids, refs and
key-encryption-key ids, the service keys' purposes and KEK ids, and client names:
never a ciphertext, a wrapped key, a key hash or a secret (a test watches the SQL).
Its own run is audited (``incident.report``, filters and counts only).

What each audited action exposes is the table :data:`EXPOSURE`; a key id names either a
key-encryption key (every subject whose data key it wraps, or wrapped before a
rotation retired it inside the window) or a service key (by purpose).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from kyc.audit import append_audit
from kyc.storage.db import Database
from kyc.storage.models import ApiClient, AuditEntry, Subject, VaultKey, Verification

__all__ = ["EXPOSURE", "IncidentQuery", "incident_report", "notice_draft"]

REPORT_VERSION = "kyc-incident-report/1"

# audited action -> data categories it made visible to its actor (or processed)
EXPOSURE: dict[str, tuple[str, ...]] = {
    "consent.record": ("consent_record", "subject_ref"),
    "consent.withdraw": ("consent_record",),
    "verification.create": ("identity_document_image", "facial_image", "identity_document_fields", "face_template", "verification_result"),
    "verification.fail": ("identity_document_image", "facial_image"),
    "subject.export": ("identity_document_fields", "face_template", "retained_images", "consent_record", "verification_result"),
    "review.view": ("masked_document_fields", "verification_result"),
    "review.reveal": ("identity_document_fields",),
    "review.image": ("retained_images",),
    "review.decision": ("verification_result",),
}
KEY_CATEGORIES = ("identity_document_fields", "face_template", "retained_images")
SERVICE_KEY_CATEGORIES = {
    "blind_index": ("id_number_blind_index",),
    "webhook_signing": ("webhook_signing_secrets",),
    "statement_signing": ("receipt_signing_key",),
}


@dataclass(frozen=True)
class IncidentQuery:
    start: datetime
    end: datetime
    key_id: str | None = None
    staff: str | None = None
    client_id: str | None = None

    def filters(self) -> dict[str, str | None]:
        return {"key_id": self.key_id, "staff": self.staff, "client": self.client_id}


@dataclass
class _Exposure:
    categories: set[str] = field(default_factory=set)
    actions: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _subject_of(e: AuditEntry) -> str | None:
    if isinstance(e.detail, dict) and isinstance(e.detail.get("subject"), str):
        return e.detail["subject"]
    if e.target and e.target.startswith("subject:"):
        return e.target.split(":", 1)[1]
    return None


def _entry_categories(e: AuditEntry) -> set[str]:
    cats = set(EXPOSURE.get(e.action, ()))
    if e.action == "review.reveal":
        cats |= {f"identity_document_fields:{f}" for f in e.detail.get("fields", [])}
    if e.action == "review.image" and e.detail.get("kind"):
        cats.add(f"retained_images:{e.detail['kind']}")
    return cats


def _key_exposure(s, q: IncidentQuery) -> dict:
    """Subjects and categories readable with the key ``q.key_id`` (a KEK id or a service-key purpose)."""
    if q.key_id in SERVICE_KEY_CATEGORIES:
        subjects: set[str] = set()
        if q.key_id == "blind_index":  # lets guesses of ID numbers be tested against the index
            subjects = set(s.scalars(select(Verification.subject_id).where(Verification.id_number_index.is_not(None))))
        return {"key_id": q.key_id, "kind": "service key", "service_keys": [q.key_id], "subjects": len(subjects),
                "categories": list(SERVICE_KEY_CATEGORIES[q.key_id]), "_subjects": subjects}
    subjects = set(s.scalars(select(Subject.id).where(Subject.kek_id == q.key_id)))
    # a KEK retired by a rotation in or after the window wrapped the keys of every subject older than it
    for at, detail in s.execute(select(AuditEntry.at, AuditEntry.detail).where(AuditEntry.action == "keys.rotate", AuditEntry.at >= q.start)):
        if q.key_id in (detail or {}).get("retired", []):
            subjects |= set(s.scalars(select(Subject.id).where(Subject.created_at <= at)))
    services = sorted(p for p, in s.execute(select(VaultKey.purpose).where(VaultKey.kek_id == q.key_id)))
    cats = set(KEY_CATEGORIES) if subjects else set()
    cats |= {c for p in services for c in SERVICE_KEY_CATEGORIES.get(p, ())}
    return {"key_id": q.key_id, "kind": "key-encryption key" if subjects or services else "unknown key", "service_keys": services,
            "subjects": len(subjects), "categories": sorted(cats), "_subjects": subjects}


def incident_report(db: Database, q: IncidentQuery, *, actor: str = "cli") -> dict:
    """The report as a JSON-ready dict (see the module docstring)."""
    if q.end <= q.start:
        raise ValueError("--to must be after --from")
    exposed: dict[str, _Exposure] = defaultdict(_Exposure)
    examined = 0
    key_section: dict | None = None
    with db.session() as s:
        conds = [AuditEntry.at >= q.start, AuditEntry.at <= q.end]
        if q.staff:
            conds.append(AuditEntry.actor == f"staff:{q.staff}")
        if q.client_id:
            conds.append(AuditEntry.actor == f"client:{q.client_id}")
        if q.staff or q.client_id or not q.key_id:
            for e in s.scalars(select(AuditEntry).where(*conds).order_by(AuditEntry.seq)):
                examined += 1
                sid = _subject_of(e)
                if sid is None or e.action not in EXPOSURE:
                    continue
                exposed[sid].categories |= _entry_categories(e)
                exposed[sid].actions[e.action] += 1
        if q.key_id:
            key_section = _key_exposure(s, q)
            for sid in key_section.pop("_subjects"):
                if q.staff or q.client_id:  # combined filters: the key AND the actor's accesses
                    if sid in exposed:
                        exposed[sid].categories |= set(key_section["categories"])
                    continue
                exposed[sid].categories |= set(key_section["categories"])
                exposed[sid].actions["key_exposure"] += 1
        ids = list(exposed)
        known: dict[str, tuple[str, str]] = {}
        for i in range(0, len(ids), 500):
            for sid, cid, ref in s.execute(select(Subject.id, Subject.client_id, Subject.ref).where(Subject.id.in_(ids[i : i + 500]))):
                known[sid] = (cid, ref)
        names = {cid: name for cid, name in s.execute(select(ApiClient.id, ApiClient.name))}
        per_client: dict[str, dict] = {}
        gone = 0
        for sid, ex in exposed.items():
            if sid not in known:
                gone += 1  # deleted since: its data and ref are no longer held
                continue
            cid, ref = known[sid]
            c = per_client.setdefault(
                cid, {"client_id": cid, "client_name": names.get(cid), "subjects": 0, "subject_refs": [], "data_categories": set(), "actions": defaultdict(int)}
            )
            c["subjects"] += 1
            c["subject_refs"].append(ref)
            c["data_categories"] |= ex.categories
            for a, n in ex.actions.items():
                c["actions"][a] += n
        clients = []
        for c in sorted(per_client.values(), key=lambda c: c["client_id"]):
            c["subject_refs"].sort()
            c["data_categories"] = sorted(c["data_categories"])
            c["actions"] = dict(sorted(c["actions"].items()))
            clients.append(c)
        report = {
            "report_version": REPORT_VERSION,
            "generated_at": _iso(datetime.now(UTC)),
            "window": {"from": _iso(q.start), "to": _iso(q.end)},
            "filters": q.filters(),
            "audit_entries_examined": examined,
            "totals": {
                "subjects": sum(c["subjects"] for c in clients),
                "clients": len(clients),
                "subjects_since_deleted": gone,
            },
            "clients": clients,
        }
        if key_section is not None:
            report["key"] = key_section
        append_audit(
            s, actor=actor, action="incident.report", detail={"filters": q.filters(), "window": report["window"], "totals": report["totals"]}
        )
    return report


_CATEGORY_ZH = {
    "consent_record": "同意记录",
    "subject_ref": "用户标识",
    "identity_document_image": "身份证件照片",
    "facial_image": "人脸照片",
    "identity_document_fields": "身份证件信息",
    "face_template": "人脸特征模板",
    "verification_result": "核验结果",
    "retained_images": "留存的审核图片",
    "masked_document_fields": "脱敏后的证件信息",
    "id_number_blind_index": "身份证号索引（密钥化哈希）",
    "webhook_signing_secrets": "回调签名密钥",
    "receipt_signing_key": "回执签名密钥",
}


def _zh(category: str) -> str:
    base, _, part = category.partition(":")
    name = _CATEGORY_ZH.get(base, base)
    return f"{name}（{part}）" if part else name


def notice_draft(report: dict, client: dict, *, controller_name: str, controller_contact: str, language: str = "en") -> str:
    """A plain-language notice to one client application, for the operator to complete and send.

    ``language``: ``en`` or ``zh-CN`` (PIPL art. 57 items: categories, cause, possible
    harm, measures taken, what individuals can do, contact).
    """
    refs = "\n".join(f"  - {r}" for r in client["subject_refs"])
    if language == "zh-CN":
        cats_zh = "、".join(_zh(c) for c in client["data_categories"]) or "未发现"
        return f"""个人信息安全事件告知

致：{client['client_name'] or client['client_id']}（客户端 {client['client_id']}）
发件方：{controller_name}（{controller_contact}）
日期：{report['generated_at']}

事件经过：[请填写事件原因及发现经过]。涉及时段：{report['window']['from']} 至 {report['window']['to']}。

涉及用户：贵方 {client['subjects']} 名用户（按贵方提供的用户标识 subject_ref 列于文末）。

可能泄露的信息种类：{cats_zh}。

可能造成的危害：[请填写，例如身份信息被冒用]。

已采取的补救措施：[请填写，例如轮换密钥、撤销访问权限]。

用户可采取的措施：[请填写，例如留意证件被冒用的情况]。

联系方式：{controller_contact}

涉及用户：
{refs}
"""
    cats = ", ".join(c.replace("_", " ") for c in client["data_categories"]) or "none identified"
    return f"""Notice of a personal-information security incident

To: {client['client_name'] or client['client_id']} (client {client['client_id']})
From: {controller_name} ({controller_contact})
Date: {report['generated_at']}

What happened: [describe the cause and how it was found]. The period concerned is
{report['window']['from']} to {report['window']['to']}.

Whose data: {client['subjects']} of your users, listed below by the user id your
application gave us (subject_ref).

What data could have been exposed: {cats}.

What it could mean for them: [describe the possible harm, e.g. misuse of identity data].

What we have done: [the measures taken: keys rotated, access revoked, ...].

What your users can do: [advice, e.g. watch for misuse of their identity documents].

Contact: {controller_contact}

Users concerned:
{refs}
"""
