"""A real Asterisk 22 for the lab and the tests, run from a Debian sid root filesystem.

Debian 12 ships no Asterisk, and installing sid packages on the host would replace its libc,
so Asterisk lives in a separate root filesystem built once with mmdebstrap and run with chroot.
Each instance gets its own directories inside that root (``/nms/<name>/...``) and its own
``asterisk.conf``, so several can run at once (the SIP test needs two).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nms.store import write_new_secret

log = logging.getLogger(__name__)

DEFAULT_ROOTFS = Path("/var/cache/nms/asterisk-rootfs")
MARKER = ".nms-rootfs-ok"
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-wav", "faketime", "tzdata")
TIMEZONE = "Asia/Seoul"
#: The lab's own dialplan (staff simulators), included at the end of the rendered extensions.conf.
LAB_DIALPLAN_INCLUDE = "extensions_lab.conf"


class AsteriskLabError(RuntimeError):
    pass


def rootfs_path() -> Path:
    return Path(os.environ.get("NMS_ASTERISK_ROOTFS") or DEFAULT_ROOTFS)


def rootfs_ready(root: Path | None = None) -> bool:
    root = root or rootfs_path()
    return (root / MARKER).is_file() and (root / "usr/sbin/asterisk").exists()


def build_rootfs(root: Path | None = None, *, quiet: bool = False) -> Path:
    """Build the Asterisk root filesystem unless it is already there. Idempotent.

    The build goes to a temporary sibling directory that is renamed into place only after
    success, so an interrupted build never leaves a half root filesystem behind.
    """
    root = root or rootfs_path()
    if rootfs_ready(root):
        return root
    if shutil.which("mmdebstrap") is None:
        raise AsteriskLabError("mmdebstrap is not installed: run `make setup`")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=root.name + ".build-", dir=root.parent))
    try:
        cmd = [
            "mmdebstrap", "--variant=apt",
            "--aptopt=Acquire::Check-Valid-Until \"false\"",
            "--include=" + ",".join(PACKAGES),
            "sid", str(tmp),
        ]
        log.info("building the Asterisk root filesystem in %s (about 20 s)", root)
        out = subprocess.DEVNULL if quiet else None
        subprocess.run(cmd, check=True, stdout=out, stderr=None if not quiet else subprocess.PIPE)
        _prepare(tmp)
        (tmp / MARKER).write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z\n"))
        if root.exists():  # a stale root without its marker
            shutil.rmtree(root)
        tmp.rename(root)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace")[-2000:] if exc.stderr else ""
        raise AsteriskLabError(f"mmdebstrap failed (exit {exc.returncode}) {detail}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _prepare(root: Path) -> None:
    for d in ("var/lib/asterisk", "var/spool/asterisk", "var/log/asterisk", "var/run/asterisk", "nms"):
        (root / d).mkdir(parents=True, exist_ok=True)
    localtime = root / "etc/localtime"
    if localtime.is_symlink() or localtime.exists():
        localtime.unlink()
    localtime.symlink_to(f"/usr/share/zoneinfo/{TIMEZONE}")
    (root / "etc/timezone").write_text(TIMEZONE + "\n")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports that were free a moment ago (TCP; UDP is nearly always free too)."""
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(_free_port())
    return sorted(ports)


@dataclass
class AsteriskInstance:
    """One Asterisk process in the shared root filesystem, with its own directories ``/nms/<name>``."""

    name: str
    root: Path
    faketime: str | None = None  # e.g. "@2026-11-25 10:30:00": starts at that wall time and ticks
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"/nms/{self.name}"

    @property
    def conf(self) -> str:
        return f"{self.base}/etc/asterisk.conf"

    @property
    def etc_dir(self) -> Path:
        return self.host_path(f"{self.base}/etc")

    @property
    def log_path(self) -> Path:
        return self.host_path(f"{self.base}/console.log")

    def host_path(self, inner: str | Path) -> Path:
        """A path as Asterisk sees it, translated to the host."""
        return self.root / str(inner).lstrip("/")

    def directories(self):
        from ivr.layout import Directories

        b = self.base
        return Directories(etc=f"{b}/etc", varlib=f"{b}/lib", spool=f"{b}/spool", run=f"{b}/run",
                           log=f"{b}/log", cache=f"{b}/cache")

    def make_dirs(self) -> None:
        for sub in ("etc", "lib", "spool", "run", "log", "cache"):
            self.host_path(f"{self.base}/{sub}").mkdir(parents=True, exist_ok=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        self.make_dirs()
        self._stop_stale()
        cmd = ["chroot", str(self.root)]
        if self.faketime:
            cmd += ["faketime", "-f", self.faketime]
        cmd += ["asterisk", "-f", "-C", self.conf]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
        if self.faketime:
            env["DONT_FAKE_MONOTONIC"] = "1"
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        try:
            # umask 027: recordings (MixMonitor) 0640 in 0750 directories, nothing world-readable.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True, umask=0o027)
        finally:
            log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AsteriskLabError(f"Asterisk {self.name} exited with {self.proc.returncode}; "
                                       f"see {self.log_path}:\n{self._tail()}")
            out = self._rx("core waitfullybooted", timeout=5, check=False)
            if out is not None and "fully booted" in out.lower():
                return
            time.sleep(0.1)
        self.stop()
        raise AsteriskLabError(f"Asterisk {self.name} did not boot in {timeout:.0f} s:\n{self._tail()}")

    def _stop_stale(self) -> None:
        """An Asterisk left over with this instance's directories (a crashed test run) is stopped first."""
        if self._rx("core show version", timeout=5, check=False) is None:
            return
        log.warning("stopping a stale Asterisk %s", self.name)
        self._rx("core stop now", timeout=5, check=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._rx("core show version", timeout=5, check=False) is not None:
            time.sleep(0.1)

    def _tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def _rx(self, command: str, timeout: float = 10, check: bool = True) -> str | None:
        proc = subprocess.run(["chroot", str(self.root), "asterisk", "-C", self.conf, "-rx", command],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            if check:
                raise AsteriskLabError(f"asterisk -rx {command!r} failed: {proc.stderr.strip() or proc.stdout}")
            return None
        return proc.stdout

    def cli(self, command: str, timeout: float = 10) -> str:
        """Run one CLI command through the remote console and return its output."""
        return self._rx(command, timeout=timeout) or ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly (``core stop now``), then by signal if it does not go."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                self._rx("core stop now", timeout=5, check=False)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def kill(self) -> None:
        """Kill at once (SIGKILL to its process group), as a crash would."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.proc = None

    def remove(self) -> None:
        """Stop and delete the instance's directories."""
        self.stop()
        shutil.rmtree(self.host_path(self.base), ignore_errors=True)


def pbx_gid(root: Path) -> int:
    """The group id of the PBX's ``asterisk`` group in the root filesystem (0 if it has none)."""
    try:
        for line in (root / "etc/group").read_text().splitlines():
            name, _pw, gid, *_ = line.split(":")
            if name == "asterisk":
                return int(gid)
    except (OSError, ValueError):
        pass
    return 0


def prepare_recordings_dir(root: Path, path: Path) -> Path:
    """Call recordings live in a 0750 directory of the PBX's group; setgid, so what Asterisk creates
    inside (per-department directories, 0640 files under its umask 027) belongs to that group too."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 0, pbx_gid(root))
    os.chmod(path, 0o2750)
    return path


def sounds_dir(root: Path, language: str = "ko") -> Path:
    """The host path of ``sounds/<language>/nms`` inside the root filesystem."""
    return root / "usr/share/asterisk/sounds" / language / "nms"


def ensure_secrets(secrets_dir: Path, config) -> None:
    """Create random lab secrets (AMI, SIP phones, caller-hash key) that do not exist yet."""
    import secrets as _secrets

    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = [config.ami.secret, config.events.caller_key_secret, *(p.secret for p in config.sip.phones)]
    reg = config.sip.trunk.registration if config.sip.trunk is not None else None
    if reg is not None:
        names += [reg.username_secret, reg.password_secret]
    for name in names:
        path = secrets_dir / name
        with contextlib.suppress(FileExistsError):
            write_new_secret(path, (_secrets.token_urlsafe(24) + "\n").encode())


@dataclass
class LabAsterisk:
    """What :func:`start_lab_asterisk` returns: the running instance and where things are."""

    instance: AsteriskInstance
    config: object
    secrets_dir: Path

    @property
    def recordings_dir(self) -> Path:
        return self.instance.host_path(self.config.recordings.directory)

    def stop(self) -> None:
        self.instance.stop()


def start_lab_asterisk(config, run_dir: Path, *, name: str = "lab", faketime: str | None = None,
                       secrets_dir: Path | None = None, lab_extensions: str | None = None,
                       extra_ami_users: tuple = (), build: bool = True) -> LabAsterisk:
    """Render ``config`` (an :class:`ivr.config.IvrConfig`), build the prompts and start Asterisk.

    Secrets come from ``secrets_dir`` (default ``$NMS_SECRETS_DIR`` or ``run_dir/secrets``); missing
    lab secrets are generated there. ``lab_extensions`` is written as LAB_DIALPLAN_INCLUDE
    (e.g. staff simulators). The rootfs is built first if needed (``build``).
    """
    from ivr.prompts import build_prompts
    from ivr.render import render
    from nms.secrets import SecretResolver

    run_dir = Path(run_dir)
    root = build_rootfs() if build else rootfs_path()
    if not rootfs_ready(root):
        raise AsteriskLabError(f"no Asterisk root filesystem at {root}: run `make setup`")
    if secrets_dir is None:
        env_dir = os.environ.get("NMS_SECRETS_DIR")
        secrets_dir = Path(env_dir) if env_dir else run_dir / "secrets"
    ensure_secrets(secrets_dir, config)
    get = SecretResolver(secrets_dir).get
    inst = AsteriskInstance(name=name, root=root, faketime=faketime)
    inst.stop()
    inst.make_dirs()
    options = lab_render_options(config, inst, get, extra_ami_users)
    render(config, inst.etc_dir, options)
    (inst.etc_dir / LAB_DIALPLAN_INCLUDE).write_text(lab_extensions or "; no lab extensions\n")
    build_prompts(config, sounds_dir(root, config.language), progress=False)
    prepare_recordings_dir(root, inst.host_path(config.recordings.directory))
    inst.start()
    return LabAsterisk(instance=inst, config=config, secrets_dir=secrets_dir)


def lab_render_options(config, inst: AsteriskInstance, get_secret, extra_ami_users: tuple = ()):
    """How the lab instance is rendered, at start and on every reload (``ivr.render.RenderOptions``)."""
    from ivr.render import RenderOptions, secret_options

    return RenderOptions(
        **secret_options(config, get_secret),
        extra_ami_users=tuple(extra_ami_users),
        directories=inst.directories(),
        dialplan_includes=(LAB_DIALPLAN_INCLUDE,),
        verbose_log=True,
    )


def stop_lab_asterisk(handle: LabAsterisk) -> None:
    handle.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.asterisk")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build-rootfs", help="build the Asterisk root filesystem (once)")
    b.add_argument("--root", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.cmd == "build-rootfs":
        try:
            root = build_rootfs(args.root)
        except AsteriskLabError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
