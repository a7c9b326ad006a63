"""Access control: API keys per client (hashed, with scopes) and rate limits."""

from kyc.access.keys import ADMIN_SCOPE, DEFAULT_SCOPES, SCOPES, Principal, authenticate, create_client, revoke_client
from kyc.access.limits import RateLimiter

__all__ = ["SCOPES", "DEFAULT_SCOPES", "ADMIN_SCOPE", "Principal", "authenticate", "create_client", "revoke_client", "RateLimiter"]
