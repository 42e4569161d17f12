"""Splitting the inventory between N collectors by a stable hash of the device name.

Like Prometheus' ``hashmod`` relabelling: the same name always lands in the same shard, on every
machine and in every run (Python's own ``hash()`` is salted per process, so it is not used).
"""

from __future__ import annotations

import hashlib


def shard_of(name: str, total: int) -> int:
    digest = hashlib.md5(name.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % total


def in_shard(name: str, index: int, total: int) -> bool:
    return shard_of(name, total) == index


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``I/N`` (0 <= I < N)."""
    try:
        left, right = text.split("/")
        index, total = int(left), int(right)
    except ValueError:
        raise ValueError(f"shard must look like I/N, e.g. 0/4, not {text!r}") from None
    if total < 1 or not 0 <= index < total:
        raise ValueError(f"shard {text!r}: need 0 <= I < N")
    return index, total
