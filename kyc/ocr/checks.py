"""The outcome of one validation: a value object with a reason code.

A check never raises: it says ``ok`` and, when not ok, a stable ``code`` that a
client can switch on, and a plain ``message`` for people (never containing the
ID number, a name or an image).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Check", "passed", "failed"]


@dataclass(frozen=True)
class Check:
    ok: bool
    code: str | None
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "code": self.code, "message": self.message}


def passed(message: str) -> Check:
    return Check(True, None, message)


def failed(code: str, message: str) -> Check:
    return Check(False, code, message)
