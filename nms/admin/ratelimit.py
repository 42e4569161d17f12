"""Login rate limiting: failed attempts per user name and per client address, in a sliding window.

Once a key has had ``attempts`` failures within ``window`` seconds it is locked until the oldest
of them leaves the window; while locked even the right password is refused (without checking it).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginLimiter:
    def __init__(self, attempts: int = 5, window: float = 300.0, per_address_factor: int = 4):
        self.attempts = attempts
        self.window = window
        self.per_address = attempts * per_address_factor  # an office shares one address behind NAT
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until a login may be tried again; 0 if allowed now."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in ((f"u:{user.lower()}", self.attempts), (f"a:{address}", self.per_address)):
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(q[-limit] + self.window - now)
            return max(waits, default=0.0)

    def failed(self, user: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"u:{user.lower()}", f"a:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{user.lower()}", None)
