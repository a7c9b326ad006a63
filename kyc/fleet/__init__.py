"""Running as a fleet: shared state (memory or Redis) and the task queue (Celery).

Nothing here is needed by the embedded default: without ``KYC_REDIS_URL`` the shared
state is process memory, and without ``KYC_BROKER_URL`` verifications run in-process.
"""

from kyc.fleet.state import MemoryState, RedisState, SharedState, StateUnavailable, state_from_url

__all__ = ["MemoryState", "RedisState", "SharedState", "StateUnavailable", "state_from_url"]
