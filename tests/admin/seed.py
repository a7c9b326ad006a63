"""Seeding the database for console tests through the service's own library (consent,
subject keys, the vault, the blind index, the audit log), as a finished verification
would be stored by ``kyc.verification.service``: no fake tables, real encryption."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageDraw

from kyc.access import create_client
from kyc.audit import append_audit
from kyc.consent import publish_policy
from kyc.consent.records import ConsentInput, record_consent
from kyc.storage import RetainedImage, Subject, Verification, new_id, utcnow
from kyc.verification.masking import mask_fields

POLICY = "2026-01"
SHA = hashlib.sha256(b"consent text").hexdigest()

FACE_SCORES = {
    "face": {"similarity": 0.41, "threshold": 0.45, "match": False, "model": "fake-face-1", "operating_point": "fmr_1e-3"},
    "liveness": {"kind": "passive", "live": True, "score": 0.93, "threshold": 0.5, "model": "fake-passive-1"},
    "document": {"confidence": {"name": 0.97, "id_number": 0.99}, "min_field_confidence": 0.8},
}


def portrait_png(colour=(180, 120, 90), size=(240, 180)) -> bytes:
    img = Image.new("RGB", size, colour)
    ImageDraw.Draw(img).ellipse((80, 30, 160, 150), fill=(230, 200, 170))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Seeder:
    db: object
    vault: object
    client_id: str
    api_key: str
    n: int = 0

    @classmethod
    def create(cls, services, client_name: str = "mobile-app") -> Seeder:
        client, key = create_client(services.db, client_name)
        try:
            publish_policy(services.db, POLICY, SHA, False, actor="test")
        except Exception:  # noqa: BLE001 - already published by an earlier seeder
            pass
        return cls(services.db, services.vault, client.id, key)

    def verification(
        self,
        *,
        status: str = "review",
        reasons: tuple[str, ...] = ("face_mismatch_borderline",),
        name: str = "张三明",
        id_number: str = "11010519491231002X",
        created_at: datetime | None = None,
        images: tuple[str, ...] = (),
        retain_hours: float = 72.0,
        scores: dict | None = None,
    ) -> str:
        self.n += 1
        purposes = ["real_name_verification", "biometric_processing"] + (["retain_for_review"] if images else [])
        consent = record_consent(
            self.db,
            self.vault,
            self.client_id,
            ConsentInput(f"user-{self.n}", purposes, POLICY, "zh-CN", "ios_app", SHA),
            actor="test",
        )
        fields = {"name": name, "id_number": id_number, "sex": "女", "birth_date": "1949-12-31", "address": "北京市朝阳区某路1号"}
        vid = new_id()
        with self.db.session() as s:
            subject = s.get(Subject, consent.subject_id)
            dek = self.vault.subject_key(subject)
            s.add(
                Verification(
                    id=vid,
                    client_id=self.client_id,
                    subject_id=subject.id,
                    consent_id=consent.id,
                    status=status,
                    reasons=list(reasons),
                    scores=scores if scores is not None else FACE_SCORES,
                    models={"face": "fake-face-1"},
                    document_type="cn_id_front",
                    masked_fields=mask_fields(fields),
                    fields_ct=self.vault.encrypt_json(dek, "verifications", vid, "fields", fields),
                    id_number_index=self.vault.id_number_index(s, id_number),
                    created_at=created_at or utcnow(),
                    completed_at=utcnow(),
                    duration_ms=812.0,
                )
            )
            s.flush()
            for kind in images:
                rid = new_id()
                s.add(
                    RetainedImage(
                        id=rid,
                        verification_id=vid,
                        subject_id=subject.id,
                        kind=kind,
                        ciphertext=self.vault.encrypt(dek, "retained_images", rid, kind, portrait_png()),
                        expires_at=utcnow() + timedelta(hours=retain_hours),
                    )
                )
            append_audit(s, actor=f"client:{self.client_id}", action="verification.create", target=f"verification:{vid}")
        return vid
