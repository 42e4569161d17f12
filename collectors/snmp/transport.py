"""One UDP socket for every SNMPv2c request, with per-request timeouts and retries.

Polling hundreds of devices through a socket each (as pysnmp's high-level API does) costs more
in system calls and event-loop bookkeeping than the SNMP work itself. Here all requests share one
socket; responses are routed back by request-id, which is all we parse before handing them over.

A request's timeout starts when its datagram is sent. When it expires, the socket is read once
more before the request is declared lost: on a busy event loop an answer may sit in the socket's
queue past its deadline only because the loop had not come round to it, and that is our delay,
not the device's.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import socket
from collections.abc import Callable

from collectors.snmp import ber

log = logging.getLogger(__name__)

Address = tuple[str, int]


class RequestTimeout(TimeoutError):
    pass


class _Expired(Exception):
    """One attempt's timer ran out (internal: becomes a retry or a RequestTimeout)."""


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpTransport):
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.owner._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable on loopback
        log.debug("UDP error: %s", exc)


class UdpTransport:
    """Sends encoded requests and awaits the matching response by request-id."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[asyncio.Future[bytes], Address]] = {}
        self._ids = itertools.count(random.randrange(1, 1 << 30))
        self._transport: asyncio.DatagramTransport | None = None
        self._sock: socket.socket | None = None
        self.late_or_unknown = 0  # responses that matched no pending request
        self.malformed = 0  # datagrams whose request-id could not be read

    async def open(self, family: int = socket.AF_INET) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("0.0.0.0", 0) if family == socket.AF_INET else ("::", 0))
        sock.setblocking(False)
        self._sock = sock
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            self._sock = None
        for fut, _ in self._pending.values():
            if not fut.done():
                fut.cancel()
        self._pending.clear()

    def next_request_id(self) -> int:
        return next(self._ids) & 0x7FFFFFFF or 1

    def _on_datagram(self, data: bytes, addr: Address) -> None:
        try:
            request_id = ber.peek_request_id(data)
        except ber.DecodeError:
            self.malformed += 1
            return
        entry = self._pending.get(request_id)
        if entry is None or entry[0].done():
            self.late_or_unknown += 1
            return
        fut, expected = entry
        if addr[0] != expected[0] or addr[1] != expected[1]:
            self.late_or_unknown += 1  # a spoofed or misrouted answer is not this request's answer
            return
        fut.set_result(data)

    def _drain(self) -> None:
        """Route the datagrams already queued on the socket (bounded: one socket buffer's worth)."""
        sock = self._sock
        for _ in range(4096):
            if sock is None:
                return
            try:
                data, addr = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable reported on this socket
                log.debug("UDP error: %s", exc)
                continue
            self._on_datagram(data, addr[:2])

    def _expire(self, fut: asyncio.Future[bytes]) -> None:
        if not fut.done():
            self._drain()
        if not fut.done():
            fut.set_exception(_Expired())

    async def request(self, address: Address, build: Callable[[int], bytes], timeout: float, retries: int) -> bytes:
        """Send ``build(request_id)`` to ``address``; retry with a fresh id on timeout."""
        if self._transport is None:
            raise RuntimeError("transport is not open")
        loop = asyncio.get_running_loop()
        for _attempt in range(retries + 1):
            request_id = self.next_request_id()
            fut: asyncio.Future[bytes] = loop.create_future()
            self._pending[request_id] = (fut, address)
            timer = None
            try:
                self._transport.sendto(build(request_id), address)
                timer = loop.call_later(timeout, self._expire, fut)  # from the send, not from a queue
                return await fut
            except _Expired:
                continue
            finally:
                if timer is not None:
                    timer.cancel()
                self._pending.pop(request_id, None)
        raise RequestTimeout(f"no response from {address[0]}:{address[1]} after {retries + 1} attempt(s)")
