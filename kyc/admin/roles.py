"""Which staff role may do what. Checked on the server for every page and action.

Roles are separate duties: a reviewer decides verifications, an admin manages staff
accounts and settings, an auditor reads the audit log. No role implies another.
"""

from __future__ import annotations

from kyc.errors import error
from kyc.storage.admin_models import ROLES

__all__ = ["ROLES", "PERMISSIONS", "HOME", "allowed", "require_permission"]

PERMISSIONS: dict[str, frozenset[str]] = {
    "queue.read": frozenset({"reviewer"}),
    "verification.read": frozenset({"reviewer"}),
    "verification.reveal": frozenset({"reviewer"}),
    "verification.decide": frozenset({"reviewer"}),
    "users.manage": frozenset({"admin"}),
    "settings.manage": frozenset({"admin"}),
    "audit.read": frozenset({"auditor"}),
}

# Where each role lands after signing in.
HOME = {"reviewer": "/admin/queue", "admin": "/admin/users", "auditor": "/admin/audit"}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def require_permission(role: str, permission: str) -> None:
    if not allowed(role, permission):
        raise error("staff_forbidden", permission=permission)
