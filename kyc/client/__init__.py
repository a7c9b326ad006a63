"""A small Python client for the verification service (httpx), with retries and idempotency keys.

Every ``verify`` call carries an ``Idempotency-Key`` (a fresh UUID unless given) and
retries with the same key on connection errors, 429, 502, 503 and 504, so a retried
request can never create a second verification::

    from kyc.client import KycClient

    with KycClient("http://127.0.0.1:8000", api_key) as kyc:
        consent = kyc.create_consent("user-42", policy_version="2026-01", consent_text=text)
        result = kyc.verify(consent["id"], id_front=front_bytes, id_back=back_bytes, selfie=selfie_bytes)
        print(result["status"], result["reasons"])
"""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import httpx

__all__ = ["KycClient", "KycApiError"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_PURPOSES = ("real_name_verification", "biometric_processing")


class KycApiError(Exception):
    """An error answer of the service, with its stable ``code``."""

    def __init__(self, status: int, code: str, message: str, detail: dict | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.detail = status, code, message, detail or {}


def _bytes(value: bytes | str | Path | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


class KycClient:
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str = "",
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        http: httpx.Client | None = None,
    ) -> None:
        self.retries = retries
        self.backoff_s = backoff_s
        self._own = http is None
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.headers = {"X-API-Key": api_key}

    def __enter__(self) -> KycClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self.http.close()

    # --- transport ---
    def _request(self, method: str, url: str, *, retry: bool, headers: dict | None = None, **kw) -> httpx.Response:
        attempt = 0
        while True:
            try:
                r = self.http.request(method, url, headers={**self.headers, **(headers or {})}, **kw)
            except httpx.TransportError:
                if not retry or attempt >= self.retries:
                    raise
            else:
                if r.status_code < 400:
                    return r
                if not (retry and r.status_code in RETRY_STATUSES and attempt < self.retries):
                    self._raise(r)
                wait = (r.json().get("error", {}).get("detail") or {}).get("retry_after_s") if self._is_json(r) else None
                if wait is not None:
                    time.sleep(min(float(wait), 30.0))
                    attempt += 1
                    continue
            time.sleep(self.backoff_s * (2**attempt))
            attempt += 1

    @staticmethod
    def _is_json(r: httpx.Response) -> bool:
        return r.headers.get("content-type", "").startswith("application/json")

    def _raise(self, r: httpx.Response) -> None:
        if self._is_json(r) and "error" in r.json():
            e = r.json()["error"]
            raise KycApiError(r.status_code, e.get("code", "unknown"), e.get("message", ""), e.get("detail"))
        raise KycApiError(r.status_code, "unknown", r.text[:200])

    # --- API ---
    def policies(self) -> list[dict]:
        return self._request("GET", "/v1/policies", retry=True).json()

    def create_consent(
        self,
        subject_ref: str,
        *,
        policy_version: str,
        consent_text: str,
        purposes: tuple[str, ...] | list[str] = DEFAULT_PURPOSES,
        locale: str = "zh-CN",
        channel: str = "app",
    ) -> dict:
        body = {
            "subject_ref": subject_ref,
            "purposes": list(purposes),
            "policy_version": policy_version,
            "locale": locale,
            "channel": channel,
            "text_sha256": hashlib.sha256(consent_text.encode()).hexdigest(),
        }
        # Not idempotent: retried only when the service refused it without processing (429, 503).
        return self._request("POST", "/v1/consents", retry=False, json=body).json()

    def withdraw_consent(self, consent_id: str) -> dict:
        return self._request("POST", f"/v1/consents/{consent_id}/withdraw", retry=True).json()

    def verify(
        self,
        consent_id: str,
        *,
        id_front: bytes | str | Path,
        selfie: bytes | str | Path | None = None,
        id_back: bytes | str | Path | None = None,
        liveness_session_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        files = {"id_front": ("id_front", _bytes(id_front), "application/octet-stream")}
        if selfie is not None:
            files["selfie"] = ("selfie", _bytes(selfie), "application/octet-stream")
        if id_back is not None:
            files["id_back"] = ("id_back", _bytes(id_back), "application/octet-stream")
        data = {"consent_id": consent_id}
        if liveness_session_id:
            data["liveness_session_id"] = liveness_session_id
        key = idempotency_key or str(uuid.uuid4())
        r = self._request("POST", "/v1/verifications", retry=True, headers={"Idempotency-Key": key}, data=data, files=files)
        return r.json()

    def get_verification(self, verification_id: str) -> dict:
        return self._request("GET", f"/v1/verifications/{verification_id}", retry=True).json()

    def export_subject(self, subject_ref: str) -> dict:
        return self._request("GET", "/v1/subjects/export", params={"subject_ref": subject_ref}, retry=True).json()

    def delete_subject(self, subject_ref: str) -> dict:
        return self._request("DELETE", "/v1/subjects", params={"subject_ref": subject_ref}, retry=True).json()
