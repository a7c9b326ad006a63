"""Shared state: the few atomic primitives the service keeps outside its database.

Rate limits, in-flight idempotency slots, subject failure counters, liveness sessions
and queued-job records all reduce to five operations: a token bucket, a sliding window
of events, a lock with a lease, a value with an expiry, and a compare-and-set.
:class:`MemoryState` keeps them in process memory (the embedded default: one process,
nothing to install); :class:`RedisState` keeps them in Redis (``KYC_REDIS_URL``), so
several API processes and workers behave as one service. Both pass the same tests
(``tests/fleet/test_state.py``).

Values are bytes and every key expires; callers encrypt anything personal before it
gets here (Redis may persist its memory to disk).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["SharedState", "MemoryState", "RedisState", "StateUnavailable", "state_from_url"]


class StateUnavailable(Exception):
    """The shared-state backend does not answer (the caller answers 503 with Retry-After)."""


class SharedState(Protocol):
    """What the service needs from shared state. Every method is atomic."""

    def token_bucket(self, key: str, capacity: float, rate_per_s: float) -> float | None:
        """Take one token; None when taken, else the seconds until one is free."""

    def add_event(self, key: str, window_s: float) -> int:
        """Record an event now; return how many fall within the last ``window_s``."""

    def window_hit(self, key: str, limit: int, window_s: float, *, count: bool = True) -> float | None:
        """Sliding-window limit: None when fewer than ``limit`` events fall in the last
        ``window_s`` (and, with ``count``, record one), else the seconds until one leaves."""

    def count_events(self, key: str, window_s: float) -> int:
        """How many events of ``key`` fall within the last ``window_s``."""

    def acquire(self, key: str, ttl_s: float) -> str | None:
        """A lease on ``key`` (a token to release it with), or None when someone holds it."""

    def release(self, key: str, token: str) -> None:
        """Give the lease back, only if ``token`` still holds it."""

    def put(self, key: str, value: bytes, ttl_s: float, *, only_if_absent: bool = False) -> bool:
        """Store ``value`` for ``ttl_s``; with ``only_if_absent``, False when the key exists."""

    def get(self, key: str) -> bytes | None: ...

    def take(self, key: str) -> bytes | None:
        """Get and delete in one step: two concurrent takes, one winner."""

    def delete(self, key: str) -> None: ...

    def swap(self, key: str, expected: bytes, value: bytes, ttl_s: float) -> bool:
        """Replace the value only if it is ``expected`` (compare-and-set); False otherwise."""

    def ping(self) -> bool: ...


@dataclass
class _Item:
    value: bytes
    expires: float


@dataclass
class MemoryState:
    """Process memory; a lock makes each operation atomic. Nothing reaches disk."""

    clock: object = time.monotonic
    _items: dict[str, _Item] = field(default_factory=dict)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _events: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ops: int = 0

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator]

    def _live(self, key: str, now: float) -> _Item | None:
        item = self._items.get(key)
        if item is not None and item.expires <= now:
            del self._items[key]
            return None
        return item

    def _sweep(self, now: float) -> None:
        """Drop expired entries now and then, so memory stays bounded without a timer."""
        self._ops += 1
        if self._ops % 1024:
            return
        for k in [k for k, v in self._items.items() if v.expires <= now]:
            del self._items[k]

    def token_bucket(self, key: str, capacity: float, rate_per_s: float) -> float | None:
        now = self._now()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / rate_per_s
            self._buckets[key] = (tokens - 1.0, now)
            return None

    def add_event(self, key: str, window_s: float) -> int:
        now = self._now()
        with self._lock:
            events = [t for t in self._events.get(key, []) if t > now - window_s] + [now]
            self._events[key] = events
            return len(events)

    def window_hit(self, key: str, limit: int, window_s: float, *, count: bool = True) -> float | None:
        now = self._now()
        with self._lock:
            events = [t for t in self._events.get(key, []) if t > now - window_s]
            if len(events) >= limit:
                self._events[key] = events
                return events[-limit] + window_s - now
            if count:
                events.append(now)
            self._events[key] = events
            return None

    def count_events(self, key: str, window_s: float) -> int:
        now = self._now()
        with self._lock:
            events = [t for t in self._events.get(key, []) if t > now - window_s]
            if events:
                self._events[key] = events
            else:
                self._events.pop(key, None)
            return len(events)

    def acquire(self, key: str, ttl_s: float) -> str | None:
        token = uuid.uuid4().hex
        return token if self.put(key, token.encode(), ttl_s, only_if_absent=True) else None

    def release(self, key: str, token: str) -> None:
        with self._lock:
            item = self._live(key, self._now())
            if item is not None and item.value == token.encode():
                del self._items[key]

    def put(self, key: str, value: bytes, ttl_s: float, *, only_if_absent: bool = False) -> bool:
        now = self._now()
        with self._lock:
            self._sweep(now)
            if only_if_absent and self._live(key, now) is not None:
                return False
            self._items[key] = _Item(bytes(value), now + ttl_s)
            return True

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._live(key, self._now())
            return item.value if item else None

    def take(self, key: str) -> bytes | None:
        with self._lock:
            item = self._live(key, self._now())
            if item is None:
                return None
            del self._items[key]
            return item.value

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def swap(self, key: str, expected: bytes, value: bytes, ttl_s: float) -> bool:
        now = self._now()
        with self._lock:
            item = self._live(key, now)
            if item is None or item.value != expected:
                return False
            self._items[key] = _Item(bytes(value), now + ttl_s)
            return True

    def ping(self) -> bool:
        return True


# Redis: each multi-step operation is one Lua script, so it is atomic on the server, and
# time is the server's (TIME), so hosts with skewed clocks still agree.
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(v[1]) or cap
local last = tonumber(v[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate else tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return tostring(wait)
"""

_EVENTS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
end
return redis.call('ZCARD', KEYS[1])
"""

_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
end
return '0'
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


class RedisState:
    """Redis (``redis://host:port/db``); every key is prefixed (``KYC_REDIS_PREFIX``)."""

    def __init__(self, url: str, prefix: str = "kyc:", *, timeout_s: float = 2.0) -> None:
        import redis

        self._redis_errors = (redis.ConnectionError, redis.TimeoutError)
        self.r = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, health_check_interval=30)
        self.prefix = prefix
        self._bucket = self.r.register_script(_BUCKET)
        self._events = self.r.register_script(_EVENTS)
        self._release = self.r.register_script(_RELEASE)
        self._window = self.r.register_script(_WINDOW)
        self._swap = self.r.register_script(_SWAP)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _call(self, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except self._redis_errors as exc:
            raise StateUnavailable(type(exc).__name__) from None

    @staticmethod
    def _ms(ttl_s: float) -> int:
        return max(1, int(ttl_s * 1000))

    def token_bucket(self, key: str, capacity: float, rate_per_s: float) -> float | None:
        wait = float(self._call(self._bucket, keys=[self._k(key)], args=[capacity, rate_per_s]))
        return wait if wait > 0 else None

    def add_event(self, key: str, window_s: float) -> int:
        return int(self._call(self._events, keys=[self._k(key)], args=[window_s, "1", uuid.uuid4().hex]))

    def window_hit(self, key: str, limit: int, window_s: float, *, count: bool = True) -> float | None:
        wait = float(self._call(self._window, keys=[self._k(key)], args=[limit, window_s, "1" if count else "0", uuid.uuid4().hex]))
        return wait if wait > 0 else None

    def count_events(self, key: str, window_s: float) -> int:
        return int(self._call(self._events, keys=[self._k(key)], args=[window_s, "0", ""]))

    def acquire(self, key: str, ttl_s: float) -> str | None:
        token = uuid.uuid4().hex
        return token if self.put(key, token.encode(), ttl_s, only_if_absent=True) else None

    def release(self, key: str, token: str) -> None:
        self._call(self._release, keys=[self._k(key)], args=[token])

    def put(self, key: str, value: bytes, ttl_s: float, *, only_if_absent: bool = False) -> bool:
        return bool(self._call(self.r.set, self._k(key), value, px=self._ms(ttl_s), nx=only_if_absent))

    def get(self, key: str) -> bytes | None:
        return self._call(self.r.get, self._k(key))

    def take(self, key: str) -> bytes | None:
        return self._call(self.r.getdel, self._k(key))

    def delete(self, key: str) -> None:
        self._call(self.r.delete, self._k(key))

    def swap(self, key: str, expected: bytes, value: bytes, ttl_s: float) -> bool:
        return bool(self._call(self._swap, keys=[self._k(key)], args=[expected, value, self._ms(ttl_s)]))

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except self._redis_errors:
            return False

    def close(self) -> None:
        self.r.close()


def state_from_url(url: str | None, prefix: str = "kyc:") -> SharedState:
    """Redis when a URL is configured, else process memory."""
    return RedisState(url, prefix) if url else MemoryState()
