"""A bounded worker pool for everything heavy a request does: decoding and the engines.

The event loop only parses bodies and answers; image decoding, OCR, face and liveness
work run here, on at most ``KYC_ENGINE_WORKERS`` threads. At most
``KYC_ENGINE_QUEUE`` more calls may wait; one more is refused at once with
``service_busy`` (503) instead of queueing without bound (memory, latency).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from kyc.errors import error

__all__ = ["WorkPool"]

T = TypeVar("T")


class WorkPool:
    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Calls running or waiting now."""
        return self._admitted

    async def run(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, or ``service_busy`` when the queue is full."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise error("service_busy", retry_after_s=1)
            self._admitted += 1
        try:
            future = self._pool.submit(functools.partial(fn, *args, **kwargs))
            return await asyncio.wrap_future(future)
        finally:
            with self._lock:
                self._admitted -= 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
