"""More than one core: receive processes sharing one UDP port (``flows.workers`` > 1).

The service binds one ``SO_REUSEPORT`` socket per worker on the same address and attaches a
classic BPF program to the group that picks the socket from the sender's IP address. Every
exporter's datagrams therefore reach the same process, which holds its templates and sequence
numbers. (Without the program the kernel's hash of address *and* port decides; a router that
sends from several source ports could then split its templates across processes.)

Each worker decodes and aggregates on its own; the service asks every worker for a snapshot at
scrape time and exposes their sum. A worker that dies keeps its last snapshot in the sum, so no
counter goes backwards and nothing is counted twice.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path

from collectors.flows.engine import FlowEngine
from collectors.flows.receiver import Receiver, bind_socket, parse_listen
from collectors.flows.settings import FlowSettings
from collectors.flows.sites import SiteMap
from collectors.flows.snapshot import FlowSnapshot, merge, take_snapshot

log = logging.getLogger("nms.flows")

_BATCH = 4096  # datagrams decoded per cycle at most
SO_ATTACH_REUSEPORT_CBPF = 51
_SKF_NET_OFF = -0x100000
_REPLY_TIMEOUT = 10.0
_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # where ``collectors`` is importable from


def run_decoder(receiver: Receiver, engine: FlowEngine, stop: threading.Event) -> None:
    """The decode loop: take batches from the receiver's queue; expire and roll windows twice a second."""
    queue = receiver.queue
    decoder = engine.decoder
    last_tick = time.monotonic()
    while True:
        if queue:
            decoder.pressure = len(queue) > _BATCH  # behind: candidates share one CPU budget
            engine.process(receiver.take(_BATCH))
        elif stop.is_set():
            break
        else:
            time.sleep(0.002)
        now = time.monotonic()
        if now - last_tick >= 0.5:
            engine.tick(now)
            last_tick = now
    engine.tick()


def run_inline(receiver: Receiver, engine: FlowEngine, stop: threading.Event) -> None:
    """The decode loop of a receive process: it reads the socket itself, a batch at a time (no
    receive thread contending for the interpreter lock; the socket's buffer holds what waits)."""
    last_tick = time.monotonic()
    while not stop.is_set():
        batch = receiver.receive(_BATCH, 0.1)
        if batch:
            engine.decoder.pressure = len(batch) == _BATCH
            engine.process(batch)
        now = time.monotonic()
        if now - last_tick >= 0.5:
            engine.tick(now)
            last_tick = now
    engine.tick()


def attach_shard_filter(sock: socket.socket, workers: int) -> bool:
    """Pick the group's socket by ``source address mod workers`` (IPv4: the whole address; IPv6:
    its last 32 bits). False when the kernel refuses the program (the 4-tuple hash then decides)."""
    offset = 12 if sock.family == socket.AF_INET else 20
    program = [
        (0x20, 0, 0, (_SKF_NET_OFF + offset) & 0xFFFFFFFF),  # ld word at the network header + offset
        (0x94, 0, 0, workers),  # A %= workers
        (0x16, 0, 0, 0),  # return A: the socket's index in the group
    ]
    code = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
    except OSError as exc:
        log.warning("flows: cannot shard by exporter address (%s); the kernel's hash decides", exc)
        return False
    return True


def _worker(conn: Connection, sock: socket.socket) -> None:
    """One receive process: receive thread, decode thread, and this loop answering the service."""
    index, settings, sites, allowed = conn.recv()
    engine = FlowEngine(settings, sites, allowed)
    receiver = Receiver(settings.listen, settings.receive_buffer, settings.queue_limit, settings.queue_bytes,
                        sock=sock)
    stop = threading.Event()
    decoder = threading.Thread(target=run_inline, args=(receiver, engine, stop), name="flows-decode", daemon=True)
    decoder.start()
    conn.send(("ready", index))
    try:
        while True:
            try:
                kind, arg = conn.recv()
            except (EOFError, OSError):
                break
            if kind == "snapshot":
                conn.send(take_snapshot(engine, receiver))
            elif kind == "drained":
                conn.send(receiver.idle and receiver.pending_bytes() == 0)
            elif kind == "sites":
                engine.aggregator.set_sites(arg)
            elif kind == "policy":
                engine.set_policy(*arg)
            elif kind == "stop":
                break
    finally:
        stop.set()
        decoder.join(timeout=5)
        receiver.stop()
        with contextlib.suppress(OSError):
            conn.send(take_snapshot(engine, receiver))


class WorkerPool:
    """The service's side of ``flows.workers`` receive processes."""

    def __init__(self, settings: FlowSettings, sites: SiteMap, allowed: Iterable[str] = ()):
        self.settings = settings
        self.sites = sites
        self.allowed = list(allowed)
        self.sharded = False
        self.address: tuple[str, int] = ("", 0)
        self._procs: list[subprocess.Popen] = []
        self._conns: list[Connection] = []
        self._last: list[FlowSnapshot] = []
        self._alive: list[bool] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.address[1])

    def start(self) -> None:
        s = self.settings
        host, _ = parse_listen(s.listen)
        first = bind_socket(s.listen, s.receive_buffer, reuse_port=True)
        self.address = first.getsockname()[:2]
        listen = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        socks = [first]
        try:
            socks += [bind_socket(listen, s.receive_buffer, reuse_port=True) for _ in range(s.workers - 1)]
            self.sharded = attach_shard_filter(first, s.workers)
            for index, sock in enumerate(socks):
                parent, child = socket.socketpair()
                env = dict(os.environ)
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
                proc = subprocess.Popen([sys.executable, "-m", "collectors.flows.workers", str(sock.fileno()),
                                         str(child.fileno())], pass_fds=(sock.fileno(), child.fileno()), env=env)
                child.close()
                conn = Connection(parent.detach())
                conn.send((index, s, self.sites, self.allowed))
                self._procs.append(proc)
                self._conns.append(conn)
                self._last.append(FlowSnapshot())
                self._alive.append(True)
        finally:
            for sock in socks:
                sock.close()  # each worker holds its own descriptor now
        for index, conn in enumerate(self._conns):
            if not conn.poll(60):
                raise OSError(f"flows worker {index} did not start")
            conn.recv()
        log.info("flows: %d receive processes on udp %s:%d (%s)", s.workers, *self.address,
                 "sharded by exporter address" if self.sharded else "kernel hash")

    def _ask(self, index: int, kind: str) -> object | None:
        conn = self._conns[index]
        if not self._alive[index]:
            return None
        try:
            conn.send((kind, None))
            if conn.poll(_REPLY_TIMEOUT):
                return conn.recv()
        except (EOFError, OSError):
            pass
        if self._procs[index].poll() is not None:
            self._alive[index] = False
            log.error("flows worker %d stopped; its counters are kept as they were", index)
        return None

    def snapshot(self) -> FlowSnapshot:
        """The sum of the workers' snapshots (a dead worker's last one stays in the sum)."""
        with self._lock:
            for index in range(len(self._conns)):
                snap = self._ask(index, "snapshot")
                if isinstance(snap, FlowSnapshot):
                    self._last[index] = snap
            return merge(self._last)

    def worker_snapshots(self) -> list[FlowSnapshot]:
        """Each worker's own snapshot (its last one if it does not answer)."""
        self.snapshot()
        with self._lock:
            return list(self._last)

    def drained(self) -> bool:
        with self._lock:
            return all(self._ask(i, "drained") is not False for i in range(len(self._conns)))

    def pids(self) -> list[int]:
        """The receive processes' IDs, in worker order."""
        return [p.pid for p in self._procs]

    def running(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs)

    def broadcast(self, kind: str, arg: object) -> None:
        with self._lock:
            for index, conn in enumerate(self._conns):
                if self._alive[index]:
                    try:
                        conn.send((kind, arg))
                    except OSError:
                        self._alive[index] = False

    def stop(self) -> None:
        with self._lock:
            for index, conn in enumerate(self._conns):
                try:
                    conn.send(("stop", None))
                    if conn.poll(_REPLY_TIMEOUT):
                        snap = conn.recv()
                        if isinstance(snap, FlowSnapshot):
                            self._last[index] = snap
                except (EOFError, OSError):
                    pass
            for proc in self._procs:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    proc.wait(timeout=5)
            for conn in self._conns:
                conn.close()
            self._alive = [False] * len(self._conns)


def main(argv: list[str]) -> None:
    """``python -m collectors.flows.workers SOCKET_FD CONTROL_FD``: started by :class:`WorkerPool`."""
    sock = socket.socket(fileno=int(argv[0]))
    conn = Connection(int(argv[1]))
    _worker(conn, sock)


if __name__ == "__main__":
    main(sys.argv[1:])
