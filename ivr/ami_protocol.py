"""One AMI connection over panoramisk 1.4, with the guarantees panoramisk lacks.

* every action has a timeout (``asyncio.wait_for``);
* no automatic reconnect and no replay of queued actions after a reconnect (a replayed
  ``Hangup`` could end the wrong call): the controller decides when to reconnect;
* actions get ``Async: false`` unless given, which avoids panoramisk's ``KeyError: 'async'``
  on responses ending in "successfully queued" (PlayDTMF), a bug that drops the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

log = logging.getLogger(__name__)

_NO_PING = 10**9  # panoramisk's pinger does not check replies; the controller pings itself


class AmiError(RuntimeError):
    pass


class _Manager(Manager):
    """panoramisk's Manager without its reconnect loop and its replay of pending actions."""

    def __init__(self, on_lost: Callable[[Any], None], **config: Any):
        super().__init__(**config)
        self._on_lost = on_lost

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self.fail_pending()
        self._on_lost(exc)

    def fail_pending(self) -> None:
        """Actions still waiting for an answer fail at once instead of waiting for their timeout."""
        for action in self.awaiting_actions:
            if not action.future.done():
                action.future.set_exception(AmiError(f"AMI connection lost during {action['action']}"))
        self.awaiting_actions.clear()

    async def send_awaiting_actions(self, *_: Any) -> None:
        self.awaiting_actions.clear()


class AmiConnection:
    """A logged-in AMI session. ``closed`` is set when the connection goes away for any reason."""

    def __init__(self, host: str, port: int, username: str, secret: str, action_timeout: float = 5.0):
        self.host, self.port = host, port
        self.username, self._secret = username, secret
        self.action_timeout = action_timeout
        self.closed = asyncio.Event()
        self._manager: _Manager | None = None
        self._handlers: list[tuple[str, Callable[[Message], Any]]] = []

    def on_event(self, pattern: str, handler: Callable[[Message], Any]) -> None:
        """Register before :meth:`connect`; ``handler(message)`` may be a coroutine function."""
        self._handlers.append((pattern, handler))

    async def connect(self, timeout: float = 3.0) -> None:
        loop = asyncio.get_running_loop()
        mgr = _Manager(
            on_lost=self._lost, loop=loop, host=self.host, port=self.port, username=self.username,
            secret=self._secret, events="on", ping_delay=_NO_PING, ping_interval=_NO_PING,
            forgetable_actions=("ping", "login", "logoff"),
        )
        for pattern, handler in self._handlers:
            mgr.register_event(pattern, lambda _m, msg, h=handler: h(msg))
        try:
            transport_protocol = await asyncio.wait_for(
                loop.create_connection(AMIProtocol, self.host, self.port), timeout)
        except (TimeoutError, OSError) as exc:
            raise AmiError(f"cannot connect to AMI at {self.host}:{self.port}: {exc or 'timeout'}") from None
        done = loop.create_future()
        done.set_result(transport_protocol)
        mgr.connection_made(done)  # sets the protocol up and sends Login
        login = mgr.authenticated_future
        self._manager = mgr
        try:
            resp = await asyncio.wait_for(login, timeout)
        except TimeoutError:
            self.close()
            raise AmiError("AMI login timed out") from None
        if not resp.success:
            self.close()
            raise AmiError(f"AMI login refused for {self.username!r}: {resp.get('Message', '')}")

    def _lost(self, exc: Any) -> None:
        log.info("AMI connection lost: %s", exc)
        self.closed.set()

    @property
    def connected(self) -> bool:
        return self._manager is not None and not self.closed.is_set()

    async def action(self, action: dict[str, Any], timeout: float | None = None) -> Message | list[Message]:
        """Send one action and wait for its complete response (a list for event-list actions)."""
        if not self.connected:
            raise AmiError("not connected to AMI")
        action = dict(action)
        if not any(k.lower() == "async" for k in action):
            action["Async"] = "false"
        assert self._manager is not None
        fut = self._manager.send_action(action)
        try:
            return await asyncio.wait_for(fut, timeout or self.action_timeout)
        except TimeoutError:
            raise AmiError(f"AMI action {action.get('Action')} timed out") from None

    async def ok(self, action: dict[str, Any], timeout: float | None = None) -> Message:
        """Send an action that answers with a single response; raise AmiError unless it succeeded."""
        resp = await self.action(action, timeout)
        first = resp[0] if isinstance(resp, list) else resp
        if not first.success:
            raise AmiError(f"AMI {action.get('Action')} failed: {first.get('Message', first)}")
        return first

    async def event_list(self, action: dict[str, Any], item_event: str,
                         timeout: float | None = None) -> list[Message]:
        """Send a list action (CoreShowChannels, DBGetTree, ...) and return its item events."""
        resp = await self.action(action, timeout)
        items = resp if isinstance(resp, list) else [resp]
        first = items[0]
        if "response" in first and not first.success:
            message = first.get("Message", "")
            if "not found" in message.lower() or "no entries" in message.lower():
                return []
            raise AmiError(f"AMI {action.get('Action')} failed: {message}")
        return [m for m in items if m.get("Event") == item_event]

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager.fail_pending()
        self.closed.set()
