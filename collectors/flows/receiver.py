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


class Receiver:
    """Binds at construction (so a port clash is reported at once); :meth:`start` runs the thread."""

    def __init__(self, listen: str, buffer_size: int, queue_limit: int):
        host, port = parse_listen(listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer_size)  # root: past rmem_max
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()[:2]
        self.buffer_size = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self.inode = os.fstat(self.sock.fileno()).st_ino
        self.queue: deque[tuple[bytes, str]] = deque()
        self.queue_limit = queue_limit
        self.received = 0
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
            if len(queue) >= limit:
                self.queue_dropped += 1
            else:
                append((data, addr[0]))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()

    def kernel_drops(self) -> int | None:
        """The socket's drop counter in /proc/net/udp(6): datagrams the kernel could not queue."""
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with contextlib.suppress(OSError), open(table, encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    cols = line.split()
                    if len(cols) >= 13 and cols[9] == str(self.inode):
                        return int(cols[12])
        return None
