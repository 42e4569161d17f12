"""The UDP listener. Its thread only receives and enqueues: it never waits on decoding."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections import deque

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def bind_socket(listen: str, buffer_size: int, reuse_port: bool = False) -> socket.socket:
    """A UDP socket bound to ``listen`` with a large receive buffer."""
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer_size)  # root: past rmem_max
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class Receiver:
    """Binds at construction (so a port clash is reported at once); :meth:`start` runs the thread."""

    def __init__(self, listen: str, buffer_size: int, queue_limit: int, queue_bytes: int = 64 << 20,
                 sock: socket.socket | None = None):
        self.sock = sock if sock is not None else bind_socket(listen, buffer_size)
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()[:2]
        self.buffer_size = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self.inode = os.fstat(self.sock.fileno()).st_ino
        self.queue: deque[tuple[bytes, str]] = deque()
        self.queue_limit = queue_limit
        self.queue_bytes = queue_bytes
        self.queued_bytes = 0  # added by the receive thread; :meth:`take` subtracts
        self.taken_bytes = 0  # added by the decode thread (two counters: no lock on the hot path)
        self.received = 0
        self.idle = False  # inline mode: waiting for the socket, nothing in hand
        self.queue_dropped = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flows-receive", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        recv = self.sock.recvfrom
        append = self.queue.append
        queue = self.queue
        limit = self.queue_limit
        max_bytes = self.queue_bytes
        while not self._stop.is_set():
            try:
                data, addr = recv(65535)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                continue
            self.received += 1
            if len(queue) >= limit or self.queued_bytes - self.taken_bytes + len(data) > max_bytes:
                self.queue_dropped += 1
            else:
                self.queued_bytes += len(data)
                append((data, addr[0]))

    def take(self, limit: int) -> list[tuple[bytes, str]]:
        """Up to ``limit`` queued datagrams, oldest first (called by the decode thread)."""
        queue = self.queue
        pop = queue.popleft
        batch = []
        size = 0
        while queue and len(batch) < limit:
            item = pop()
            size += len(item[0])
            batch.append(item)
        self.taken_bytes += size
        return batch

    def receive(self, limit: int, wait: float) -> list[tuple[bytes, str]]:
        """Read up to ``limit`` datagrams straight from the socket, waiting up to ``wait`` seconds for
        the first (the inline mode: no receive thread, the kernel's buffer is the queue)."""
        sock = self.sock
        batch: list[tuple[bytes, str]] = []
        sock.settimeout(wait)
        self.idle = True
        try:
            data, addr = sock.recvfrom(65535)
        except (TimeoutError, BlockingIOError, OSError):
            return batch
        finally:
            self.idle = False
        batch.append((data, addr[0]))
        sock.setblocking(False)
        recv = sock.recvfrom
        append = batch.append
        try:
            while len(batch) < limit:
                data, addr = recv(65535)
                append((data, addr[0]))
        except (BlockingIOError, OSError):
            pass
        self.received += len(batch)
        return batch

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()

    def waiting(self) -> tuple[int, int]:
        """Datagrams and bytes queued for the decoder."""
        return len(self.queue), max(0, self.queued_bytes - self.taken_bytes)

    def pending_bytes(self) -> int | None:
        """Bytes waiting in the socket's kernel buffer (/proc/net/udp rx_queue)."""
        row = self._proc_row()
        return int(row[4].split(":")[1], 16) if row else None

    def kernel_drops(self) -> int | None:
        """The socket's drop counter in /proc/net/udp(6): datagrams the kernel could not queue."""
        row = self._proc_row()
        return int(row[12]) if row else None

    def _proc_row(self) -> list[str] | None:
        """This socket's row of /proc/net/udp(6)."""
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with contextlib.suppress(OSError), open(table, encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    cols = line.split()
                    if len(cols) >= 13 and cols[9] == str(self.inode):
                        return cols
        return None
