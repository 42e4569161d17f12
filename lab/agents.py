"""Simulated SNMP agents: snmpsim processes with one SNMP engine and one UDP endpoint per device.

Why one engine per device: snmpsim 1.2.2 can pick a data file by the endpoint a request came in
on (``probe_context``), but with pysnmp 7.1 its hook is never called (snmpsim overrides
``handleMgmtOperation``; pysnmp calls ``handle_management_operation``). Every ``--v3-engine-id``
section of its command line is a separate engine with its own data directory, endpoints and
users, so each device gets one. It is also what real devices look like: each has its own
snmpEngineID. A device's directory holds one file:

* v2c: ``<community>.snmprec``: snmpsim takes the community from the file name;
* v3: ``self.snmprec``: the default (empty) context. v3 devices run in processes started
  with ``--v3-only``, so they do not answer v2c at all.

Engine start-up costs about 40 ms of CPU (pysnmp compiles its MIB modules for each engine);
``PYTHONOPTIMIZE=1`` makes pysnmp skip a second compilation.

snmpsim refuses to run as root: the agents switch to ``nobody`` after binding, so their data,
the variation module and the venv must be readable by ``nobody`` (checked before start; when it
cannot read them, e.g. a checkout under a 0700 /root, the agents stay root with a warning).
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lab import dynamics, processes
from lab.agentdata import VARIATION, context_for, device_records, engine_id, write_if_changed
from lab.errors import LabError
from lab.faults import Faults, choose_faults
from lab.labsecrets import LabCredential, ensure_lab_secrets
from lab.options import LabOptions
from lab.probe import Target, sysnames
from nms.app.district import District
from nms.inventory.models import Device

log = logging.getLogger(__name__)

AGENT_MODULE = "snmpsim.commands.responder"
UNPRIVILEGED = "nobody"


@dataclass(frozen=True)
class AgentPaths:
    run_dir: Path

    @property
    def root(self) -> Path:
        return self.run_dir / "agents"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def variation(self) -> Path:
        return self.root / "variation"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def args(self) -> Path:
        return self.root / "args"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def secrets(self) -> Path:
        return self.run_dir / "secrets"


@dataclass(frozen=True)
class AgentSpec:
    """One simulated device: where it listens, what it serves, how it authenticates."""

    name: str
    host: str
    port: int
    data_file: Path
    engine_id: str
    credential: LabCredential

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def v3(self) -> bool:
        return self.credential.version == "3"

    def target(self) -> Target:
        return Target(self.host, self.port, self.credential)


@dataclass
class AgentProcess(processes.ManagedProcess):
    """One snmpsim process and the devices it serves. Its marker is its arguments file."""

    devices: list[str] = field(default_factory=list)
    v3_only: bool = False
    log_start: int = field(default=0, repr=False, compare=False)  # where this run's output starts

    def to_json(self) -> dict[str, Any]:
        return super().to_json() | {"devices": self.devices, "v3_only": self.v3_only}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentProcess:
        return cls(name=str(data["name"]), pid=int(data["pid"]), log=Path(data["log"]), marker=str(data["marker"]),
                   devices=[str(d) for d in data["devices"]], v3_only=bool(data["v3_only"]))


@dataclass
class AgentSet:
    """Running agents. ``stop_device`` simulates one device going down (one device per process only)."""

    run_dir: Path
    specs: dict[str, AgentSpec]
    processes: list[AgentProcess]
    faults: Faults
    user: str
    warnings: list[str] = field(default_factory=list)

    @property
    def secrets_dir(self) -> Path:
        return AgentPaths(self.run_dir).secrets

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def process_of(self, device: str) -> AgentProcess:
        for p in self.processes:
            if device in p.devices:
                return p
        raise KeyError(f"no agent serves {device!r} (down devices: {', '.join(self.faults.down) or 'none'})")

    def stop_device(self, device: str) -> None:
        proc = self.process_of(device)
        if len(proc.devices) > 1:
            raise ValueError(f"{device} shares process {proc.name} with {len(proc.devices) - 1} other devices; "
                             "start the agents with process_per_device=True")
        proc.stop()

    def stop(self) -> None:
        for p in self.processes:
            p.stop()

    def __enter__(self) -> AgentSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- data ------------------------------------------------------------------------------------

def _data_file(paths: AgentPaths, device: Device, cred: LabCredential) -> Path:
    name = "self" if cred.version == "3" else cred.community
    return paths.data / device.name / f"{name}.snmprec"


def generate_data(district: District, paths: AgentPaths, devices: Sequence[Device], faults: Faults,
                  credentials: dict[str, LabCredential], epoch: float, progress: bool = False) -> list[AgentSpec]:
    """Write every device's data file (unchanged files are left alone) and return the agent specs."""
    specs: list[AgentSpec] = []
    profiles = district.snmp.profiles
    for device in tqdm(devices, desc="장비 데이터 생성", unit="대", disable=not progress, file=sys.stderr,
                       leave=False):
        cred = credentials[device.credentials]
        ctx = context_for(device, district.inventory, profiles, faults, epoch)
        target = _data_file(paths, device, cred)
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob("*.snmprec"):
            if stale != target:
                stale.unlink()
        write_if_changed(target, device_records(ctx).text())
        specs.append(AgentSpec(device.name, str(device.address), device.port, target, engine_id(device), cred))
    return specs


def district_epoch(paths: AgentPaths, now: float) -> float:
    """When this run directory's district was first started. Boot times derive from it, so that
    restarting the lab keeps every uptime (a restart is not seen as 486 reboots)."""
    path = paths.root / "epoch"
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{int(now)}\n")
        return float(int(now))


def _prepare_dirs(paths: AgentPaths, user: str) -> None:
    for d in (paths.root, paths.data, paths.variation, paths.cache, paths.args, paths.logs):
        d.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.run_dir, 0o755)
    os.chmod(paths.args, 0o700)  # holds the v3 keys; snmpsim reads it before dropping privileges
    write_if_changed(paths.variation / f"{VARIATION}.py", Path(dynamics.__file__).read_text(encoding="utf-8"))
    if os.geteuid() == 0 and user != "root":
        pw = pwd.getpwnam(user)
        # Only the agents' group may look inside: the data file names are the communities.
        os.chown(paths.root, 0, pw.pw_gid)
        os.chmod(paths.root, 0o750)
        for dirpath, _, _ in os.walk(paths.cache):
            os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for f in paths.cache.iterdir():
            os.chown(f, pw.pw_uid, pw.pw_gid)
        os.chmod(paths.cache, 0o700)


def _readable_by(user: str, paths: AgentPaths) -> str | None:
    """None if ``user`` can run the agents (import snmpsim, read the data); else what failed."""
    check = (
        "import os, sys, snmpsim.commands.responder, pysnmp.entity.engine\n"
        "data, variation, cache = sys.argv[1:4]\n"
        "os.listdir(data); open(os.path.join(variation, 'nmslab.py')).close()\n"
        "assert os.access(cache, os.W_OK), 'cache directory not writable: ' + cache\n"
    )
    pw = pwd.getpwnam(user)
    try:
        done = subprocess.run([sys.executable, "-c", check, str(paths.data), str(paths.variation), str(paths.cache)],
                              user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], capture_output=True, text=True,
                              timeout=60, cwd="/")
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["?"])[-1]
    return None


def choose_user(paths: AgentPaths, requested: str | None, warnings: list[str]) -> str:
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    user = requested or UNPRIVILEGED
    if user == "root":
        return user
    try:
        pwd.getpwnam(user)
    except KeyError:
        problem: str | None = f"no such user {user!r}"
    else:
        _prepare_dirs(paths, user)
        problem = _readable_by(user, paths)
    if problem is None:
        return user
    if requested:
        raise LabError("agents", f"{user} 사용자로 에이전트를 실행할 수 없습니다: {problem}")
    warning = (f"agents run as root: user {user} cannot run them ({problem}); "
               f"make the checkout and {paths.run_dir} readable by {user} (e.g. chmod o+x on the parents)")
    log.warning("%s", warning)
    warnings.append(warning)
    return "root"


# --- processes ----------------------------------------------------------------------------------

def _args_lines(spec: AgentSpec, unused_user: str) -> list[str]:
    lines = [f"--v3-engine-id={spec.engine_id}"]
    cred = spec.credential
    if spec.v3:
        lines += [f"--v3-user={cred.username}", f"--v3-auth-key={cred.auth_key}",
                  f"--v3-auth-proto={cred.auth_protocol}", f"--v3-priv-key={cred.priv_key}",
                  f"--v3-priv-proto={cred.priv_protocol}"]
    else:
        # Without a user snmpsim adds its well-known "simulator" one and spends 25 ms hashing its keys.
        lines.append(f"--v3-user={unused_user}")
    family = "udpv6" if ":" in spec.host else "udpv4"
    lines += [f"--data-dir={spec.data_file.parent}", f"--agent-{family}-endpoint={spec.endpoint}"]
    return lines


def group_agents(specs: Sequence[AgentSpec], count: int, per_device: bool) -> list[tuple[str, list[AgentSpec]]]:
    if per_device:
        return [(f"agent-{s.name}", [s]) for s in specs]
    v2c = [s for s in specs if not s.v3]
    v3 = [s for s in specs if s.v3]
    count = max(1, min(count, len(v2c)))
    groups = [(f"agents-{i + 1}", v2c[i::count]) for i in range(count) if v2c[i::count]]
    if v3:
        groups.append(("agents-v3", v3))
    return groups


def _spawn(name: str, specs: list[AgentSpec], paths: AgentPaths, user: str, unused_user: str) -> AgentProcess:
    args_file = paths.args / f"{name}.args"
    lines = [line for s in specs for line in _args_lines(s, unused_user)]
    fd = os.open(args_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    v3_only = all(s.v3 for s in specs)
    cmd = [sys.executable, "-m", AGENT_MODULE, f"--args-from-file={args_file}", f"--cache-dir={paths.cache}",
           f"--variation-modules-dir={paths.variation}", "--log-level=error"]
    env = dict(os.environ, PYTHONOPTIMIZE="1", PYTHONDONTWRITEBYTECODE="1")
    if os.geteuid() == 0 and user != "root":
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
        cmd += [f"--process-user={user}", f"--process-group={group}"]
    elif os.geteuid() == 0:
        env["SNMPSIM_ALLOW_ROOT"] = "true"
    if v3_only:
        cmd.append("--v3-only")
    log = paths.logs / f"{name}.log"
    log_start = log.stat().st_size if log.exists() else 0
    popen = processes.spawn(cmd, log, env=env, cwd=paths.root)
    return AgentProcess(name, popen.pid, log, str(args_file), popen, devices=[s.name for s in specs],
                        v3_only=v3_only, log_start=log_start)


def _engines_configured(p: AgentProcess) -> int:
    """Devices the process has set up so far: snmpsim logs one "Listening at" line per engine."""
    try:
        with open(p.log, "rb") as f:
            f.seek(p.log_start)
            return f.read().count(b"Listening at")
    except OSError:
        return 0


def wait_ready(procs: Sequence[AgentProcess], specs: dict[str, AgentSpec], timeout: float,
               progress: bool = False) -> None:
    """Return once every process answers a GET for one of its devices; LabError if one dies or hangs."""
    pending = list(procs)
    deadline = time.monotonic() + timeout
    total = sum(len(p.devices) for p in procs)
    with tqdm(total=total, desc="SNMP 에이전트 시작", unit="대", disable=not progress, file=sys.stderr,
              leave=False) as bar:
        rounds = 0
        while pending:
            for p in pending:
                if not p.running():
                    raise LabError(p.name, "snmpsim이 시작 중에 종료되었습니다", p.log, processes.log_tail(p.log))
            configured = {p.name: _engines_configured(p) for p in pending}
            # Probing costs CPU the agents need: ask once their log says every engine is set up
            # (and now and then anyway, in case the log says nothing).
            ask = [p for p in pending if configured[p.name] >= len(p.devices) or rounds % 10 == 9]
            rounds += 1
            probes = [specs[p.devices[-1]] for p in ask]
            answers = sysnames([s.target() for s in probes], timeout=0.4)
            ready = {p.name for p, s, a in zip(ask, probes, answers, strict=True) if a == s.name}
            pending = [p for p in pending if p.name not in ready]
            done = sum(min(configured.get(p.name, len(p.devices)), len(p.devices)) if p in pending
                       else len(p.devices) for p in procs)
            bar.update(done - bar.n)
            if pending and time.monotonic() > deadline:
                p = pending[0]
                raise LabError(p.name, f"{timeout:.0f}초 안에 응답하지 않습니다 ({specs[p.devices[-1]].endpoint})",
                               p.log, processes.log_tail(p.log))
            if pending:
                time.sleep(0.2)


def start_agents(district: District, run_dir: Path, *, devices: Sequence[str] | None = None,
                 process_per_device: bool = False, options: LabOptions | None = None,
                 faults: Faults | None = None, progress: bool = False) -> AgentSet:
    """Generate the data and start the agents of ``devices`` (default: every active device).

    Devices that ``faults`` (default: chosen from ``options``) mark as down get no agent.
    Returns once every process answers. The caller stops them (``AgentSet.stop``).
    """
    options = options or LabOptions()
    run_dir = run_dir.resolve()
    paths = AgentPaths(run_dir)
    now = time.time()
    active = list(district.inventory.active_devices())
    if devices is not None:
        by_name = {d.name: d for d in active}
        unknown = sorted(set(devices) - set(by_name))
        if unknown:
            raise LabError("agents", f"활성 장비가 아닙니다: {', '.join(unknown)}")
        active = [by_name[n] for n in devices]
    if faults is None:
        try:
            faults = choose_faults(active, options, now)
        except ValueError as exc:
            raise LabError("agents", str(exc)) from None
    serving = [d for d in active if d.name not in faults.down]

    run_dir.mkdir(parents=True, exist_ok=True)
    for d in (paths.root, paths.logs):
        d.mkdir(parents=True, exist_ok=True)
    credentials = ensure_lab_secrets(paths.secrets, district.snmp)
    specs = generate_data(district, paths, serving, faults, credentials, district_epoch(paths, now),
                          progress=progress)
    warnings: list[str] = []
    user = choose_user(paths, options.agent_user, warnings)
    _prepare_dirs(paths, user)
    unused_user = "unused-" + os.urandom(6).hex()
    started: list[AgentProcess] = []
    try:
        for name, group in group_agents(specs, options.processes, process_per_device):
            started.append(_spawn(name, group, paths, user, unused_user))
        wait_ready(started, {s.name: s for s in specs}, options.startup_timeout, progress=progress)
    except BaseException:
        for p in started:
            p.stop()
        raise
    return AgentSet(run_dir, {s.name: s for s in specs}, started, faults, user, warnings)


