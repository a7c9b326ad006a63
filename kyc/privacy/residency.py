"""Residency: personal data stays in the jurisdiction (``KYC_JURISDICTION``, default CN).

The operator declares which hosts and networks are inside it
(``KYC_RESIDENCY_ALLOWED_HOSTS``: host names, ``*.suffix`` wildcards, IP addresses and
CIDR networks; loopback and local files always count as inside; the default adds the
private networks of RFC 1918 and RFC 4193, the operator's own network). The service
refuses to start when its database, a broker or any other ``*_url`` setting, or a client
application's webhook points elsewhere, and says which setting and why.

Hosts known to be abroad may be declared in ``KYC_RESIDENCY_CROSS_BORDER_HOSTS``: a
webhook may point there, and a delivery about a subject is sent there only when the
subject's consent holds the ``cross_border_transfer`` purpose (else it is withheld and
the withholding audited).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from kyc.config import Settings

__all__ = [
    "ResidencyViolation",
    "host_inside",
    "url_host",
    "check_target",
    "is_cross_border",
    "startup_violations",
    "enforce_residency",
]

NOT_DATA_TARGETS = frozenset({"privacy_policy_url"})  # ``*_url`` settings that carry no data


class ResidencyViolation(RuntimeError):
    """The service would store or send personal data outside the declared jurisdiction."""


def url_host(url: str) -> str | None:
    """The host of a URL; None for local targets (SQLite files, unix sockets)."""
    if url.startswith("sqlite"):
        return None
    parts = urlsplit(url)
    return parts.hostname or None


def _ip(value: str):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _matches(host: str, entry: str) -> bool:
    entry = entry.strip().lower()
    if not entry:
        return False
    ip = _ip(host)
    if "/" in entry:
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
        return ip is not None and ip.version == net.version and ip in net
    if entry.startswith("*."):
        return host.endswith(entry[1:])
    if _ip(entry) is not None:
        return ip is not None and ip == _ip(entry)
    return host == entry


def _resolve(host: str) -> list[str]:
    try:
        return sorted({a[4][0] for a in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def host_inside(host: str | None, allowed: list[str]) -> bool:
    """Loopback, local, or declared inside (by name, or by the addresses the name resolves to)."""
    if host is None:
        return True
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return True
    if any(_matches(host, e) for e in allowed):
        return True
    if ip is None and any("/" in e for e in allowed):  # a name: check where it points
        addrs = _resolve(host)
        return bool(addrs) and all(_ip(a).is_loopback or any(_matches(a, e) for e in allowed) for a in addrs)
    return False


def is_cross_border(url: str, settings: Settings) -> bool:
    return not host_inside(url_host(url), settings.residency_allowed_hosts)


def check_target(name: str, url: str, settings: Settings, *, cross_border_ok: bool = False) -> str | None:
    """Why ``url`` (the setting or target ``name``) is not allowed, or None."""
    host = url_host(url)
    if host_inside(host, settings.residency_allowed_hosts):
        return None
    if cross_border_ok and any(_matches(host.lower(), e) for e in settings.residency_cross_border_hosts):
        return None
    return (
        f"{name} points to {host}, which is not declared inside the jurisdiction {settings.jurisdiction}: "
        f"add it to KYC_RESIDENCY_ALLOWED_HOSTS if it is"
        + (" (or to KYC_RESIDENCY_CROSS_BORDER_HOSTS for a webhook abroad)" if cross_border_ok else "")
    )


def startup_violations(settings: Settings, webhook_urls: dict[str, str] | None = None) -> list[str]:
    """Every data target of the configuration (and the clients' webhooks) outside the jurisdiction."""
    problems = []
    targets = {"KYC_DATABASE_URL": settings.resolved_database_url}
    for field, value in settings.model_dump().items():
        if field.endswith("_url") and field not in NOT_DATA_TARGETS and field != "database_url" and value:
            targets[f"KYC_{field.upper()}"] = str(value)
    for name, url in targets.items():
        if (p := check_target(name, url, settings)) is not None:
            problems.append(p)
    for client_id, url in sorted((webhook_urls or {}).items()):
        if (p := check_target(f"the webhook of client {client_id}", url, settings, cross_border_ok=True)) is not None:
            problems.append(p)
    return problems


def enforce_residency(settings: Settings, webhook_urls: dict[str, str] | None = None) -> None:
    problems = startup_violations(settings, webhook_urls)
    if problems:
        raise ResidencyViolation("refusing to start: " + "; ".join(problems))
