"""The admin review console's library: staff accounts and sessions, roles, the review
queue, reviewing and deciding verifications, webhooks, and reading the audit log.

The web pages live in ``api/admin``; this package holds the rules and does the I/O.
"""

from kyc.admin.accounts import StaffAccount, create_user, list_users, sign_in, staff_actor
from kyc.admin.auditlog import AuditPage, list_audit
from kyc.admin.queue import QueueFilter, QueuePage, list_queue
from kyc.admin.reasons import describe_reason
from kyc.admin.review import open_verification, record_decision, retained_image, reveal_fields
from kyc.admin.roles import ROLES, allowed, require_permission
from kyc.admin.sessions import Staff, close_session, load_session, open_session
from kyc.admin.watermark import watermark_image
from kyc.admin.webhooks import WebhookDispatcher, set_webhook, sign_body, verify_signature

__all__ = [
    "ROLES",
    "Staff",
    "StaffAccount",
    "AuditPage",
    "QueueFilter",
    "QueuePage",
    "WebhookDispatcher",
    "allowed",
    "close_session",
    "create_user",
    "describe_reason",
    "list_audit",
    "list_queue",
    "list_users",
    "load_session",
    "open_session",
    "open_verification",
    "record_decision",
    "require_permission",
    "retained_image",
    "reveal_fields",
    "set_webhook",
    "sign_body",
    "sign_in",
    "staff_actor",
    "verify_signature",
    "watermark_image",
]
