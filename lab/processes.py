"""Detached processes of the lab: start with a log file, find them again by pid, stop them.

A pid alone may be reused after the process died, so each process is also recognised by a
marker (a path under the run directory) that must appear in its command line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import LabError


def spawn(cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own session (it outlives the caller), output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n".encode())
        out.flush()
        return subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # not our child: init reaps it
        os.waitpid(pid, os.WNOHANG)


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def is_running(pid: int, marker: str | None = None) -> bool:
    """True while ``pid`` is alive (not a zombie) and, if given, has ``marker`` in its command line."""
    _reap(pid)
    state = _state(pid)
    if state is None or state in ("Z", "X"):
        return False
    if marker is None:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline


def stop(pid: int, marker: str | None = None, timeout: float = 5.0) -> bool:
    """SIGTERM the process group of ``pid``, then SIGKILL after ``timeout``. False if it was not running."""
    if not is_running(pid, marker):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not is_running(pid):
                return True
            time.sleep(0.05)
    return not is_running(pid)


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A lab process as recorded in the lab state."""

    name: str
    pid: int
    log: Path
    marker: str
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def running(self) -> bool:
        if self.popen is not None:
            # Our own child: no need for the marker (its command line is briefly empty during exec).
            return self.popen.poll() is None
        return is_running(self.pid, self.marker)

    def stop(self) -> None:
        stop(self.pid, None if self.running() and self.popen is not None else self.marker)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(5)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "pid": self.pid, "log": str(self.log), "marker": self.marker}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagedProcess:
        return cls(name=str(data["name"]), pid=int(data["pid"]), log=Path(data["log"]), marker=str(data["marker"]))


def find_by_marker(marker: str) -> list[int]:
    """Pids of running processes whose command line contains ``marker`` (a run-directory path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and is_running(int(entry.name), marker):
            found.append(int(entry.name))
    return found


def find_tool(path: str, component: str, package: str) -> str:
    """``path``, or the same name on $PATH; LabError naming the Debian package when neither exists."""
    found = path if Path(path).exists() else shutil.which(Path(path).name)
    if not found:
        raise LabError(component, f"{path} 가 없습니다: Debian 패키지 '{package}'를 설치하세요 (`make setup`)")
    return found


def check_config(component: str, cmd: Sequence[str], path: Path) -> str:
    """Run a config checker (promtool, amtool) on ``path``; its output, or LabError with it if refused."""
    done = subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=60)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise LabError(component, f"{Path(cmd[0]).name} 이(가) 설정을 거부했습니다: {path}", tail=output)
    return output
