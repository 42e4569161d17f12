"""The IVR's protection-event store as the admin page reaches it.

With the IVR running in this process, its own store; with the admin page on its own, the database
named in ivr.yaml, opened once per path through :class:`ivr.events.EventStore` (read and legal holds
only: without the caller-hash key it cannot add events). The page never writes its own SQL.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ivr.events import EventStore
from nms.admin.workspace import Workspace

_stores: dict[Path, EventStore] = {}
_stores_lock = threading.Lock()


def event_store(ws: Workspace, *, create: bool = True) -> EventStore | None:
    """The running IVR's store, else the store of ivr.yaml's database; None if that does not exist and not
    ``create``. Raises what :meth:`Workspace.ivr_config` raises (no ivr.yaml, an invalid one)."""
    ivr = ws.service("ivr")
    if ivr is not None:
        return ivr.store
    path = Path(ws.ivr_config()[0].events.database)
    with _stores_lock:
        if path not in _stores:
            if not create and not path.is_file():
                return None
            _stores[path] = EventStore(path, None)
        return _stores[path]
