"""Login rate limiting: failed attempts per (client address, user name) and per client address.

A key that had ``attempts`` failures within ``window`` seconds is locked until the oldest of them
leaves the window; while locked, even the right password is refused (without checking it). Nobody
can lock an account for everyone: a user name is only ever locked for one address. An address is
locked after ``attempts * per_address_factor`` failures over all names (one office shares one
address behind NAT). ``nms admin unlock USER`` (on the host) lifts both for that user at once, so
an admin always has a way in.

Memory is bounded: at most ``max_keys`` keys are tracked; the least recently failed go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(self, attempts: int = 5, window: float = 300.0, per_address_factor: int = 4,
                 unlocked_at: Callable[[str], float] | None = None, max_keys: int = 20_000):
        self.attempts = attempts
        self.window = window
        self.per_address = attempts * per_address_factor
        self.max_keys = max_keys
        self._unlocked_at = unlocked_at or (lambda user: 0.0)
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._refusals_noted: dict[str, float] = {}

    @staticmethod
    def _keys(user: str, address: str) -> tuple[tuple[str, int], ...]:
        return ((f"p:{address}|{user.lower()}", 0), (f"a:{address}", 1))

    def _recent(self, key: str, now: float, since: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and (q[0] <= now - self.window or q[0] <= since):
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until a login may be tried again; 0 if allowed now."""
        now = time.time()
        since = self._unlocked_at(user.lower())
        with self._lock:
            waits = []
            for key, is_address in self._keys(user, address):
                limit = self.per_address if is_address else self.attempts
                q = self._recent(key, now, since)
                if len(q) >= limit:
                    waits.append(q[-limit] + self.window - now)
            return max(waits, default=0.0)

    def first_refusal(self, user: str, address: str, wait: float) -> bool:
        """True once per lock: refused attempts are logged once, not each (a locked attacker cannot
        fill the audit log)."""
        key = f"{address}|{user.lower()}"
        now = time.time()
        with self._lock:
            if self._refusals_noted.get(key, 0.0) > now:
                return False
            if len(self._refusals_noted) >= self.max_keys:
                self._refusals_noted = {k: t for k, t in self._refusals_noted.items() if t > now}
                if len(self._refusals_noted) >= self.max_keys:
                    return False
            self._refusals_noted[key] = now + wait
            return True

    def failed(self, user: str, address: str) -> None:
        now = time.time()
        with self._lock:
            for key, _ in self._keys(user, address):
                q = self._failures.pop(key, None) or deque(maxlen=self.per_address)
                q.append(now)
                self._failures[key] = q  # most recent last
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(user, address)[0][0], None)
