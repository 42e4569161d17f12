"""Running what `make install DESTDIR=ROOT` staged, at the paths its systemd units name.

No systemd runs as PID 1 here, so a unit cannot be started for real. Instead a private mount
namespace puts ROOT's files where the unit expects them (/opt/nms, /etc/nms, /var/lib/nms), creates
the unit's user with the installed sysusers.d file and its directories with the installed
tmpfiles.d file (inside the namespace: the host's /etc is not changed), and then runs the unit's
ExecStart as systemd would: as User=/Group=, with its Environment=, UMask=, NoNewPrivileges=,
CapabilityBoundingSet=/AmbientCapabilities=, a private /tmp, a read-only file system except the
unit's writable paths (ProtectSystem=strict), and LoadCredential=ID:DIR copied to a private
credentials directory as ID_<file>, owned by the user.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

UNITS = ("nms.service", "nms-collect@.service", "nms-flows@.service")
UNIT_DIR = "lib/systemd/system"


@dataclass
class Unit:
    """The [Service] section of a unit file: every key with all its values, in order."""

    path: Path
    keys: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Unit:
        unit = cls(path)
        section = ""
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            unit.keys.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
        return unit

    def get(self, key: str, section: str = "Service") -> str:
        values = self.keys.get(f"{section}.{key}", [])
        return values[-1] if values else ""

    def all(self, key: str, section: str = "Service") -> list[str]:
        """Every value of a list setting, split into words (an empty assignment resets the list)."""
        out: list[str] = []
        for value in self.keys.get(f"{section}.{key}", []):
            out = [] if not value else out + value.split()
        return out

    def environment(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for value in self.keys.get("Service.Environment", []):
            for word in shlex.split(value):
                name, _, val = word.partition("=")
                env[name] = val
        return env


def caps(names: list[str]) -> str:
    """systemd's CAP_NET_ADMIN CAP_X -> setpriv's -all,+net_admin,+x."""
    return ",".join(["-all", *(f"+{n.lower().removeprefix('cap_')}" for n in names)])


def exec_argv(unit: Unit, instance: str = "", env: dict[str, str] | None = None) -> list[str]:
    """ExecStart as systemd would run it: %i/%I specifiers, then ${VAR} from the environment."""
    line = unit.get("ExecStart").lstrip("-@:+!")
    line = line.replace("%I", instance.replace("-", "/")).replace("%i", instance)
    argv = []
    for word in shlex.split(line):
        m = re.fullmatch(r"\$\{(\w+)\}", word)
        if m:
            argv.extend((env or {}).get(m.group(1), "").split())
        else:
            argv.append(word)
    return argv


def _sh(*words: str) -> str:
    return " ".join(shlex.quote(w) for w in words)


def namespace_script(root: Path, scratch: Path, unit: Unit | None, argv: list[str],
                     extra_env: dict[str, str] | None = None) -> str:
    """A shell script (run under ``unshare --mount``) that lays out ROOT and execs ``argv``."""
    lines = ["set -e",
             # /etc and /var/lib: copy-on-write views, so the host's files stay as they are
             *(f"mkdir -p {scratch}/{n}-up {scratch}/{n}-work && mount -t overlay overlay "
               f"-o lowerdir={p},upperdir={scratch}/{n}-up,workdir={scratch}/{n}-work {p}"
               for n, p in (("etc", "/etc"), ("varlib", "/var/lib"))),
             "mount -t tmpfs -o mode=0755 tmpfs /opt",
             "mkdir -p /opt/nms /etc/nms /var/lib/nms /etc/credstore/nms",
             _sh("mount", "--bind", str(root / "opt/nms"), "/opt/nms"),
             "mount -o remount,bind,ro /opt/nms",
             _sh("mount", "--bind", str(root / "etc/nms"), "/etc/nms"),
             _sh("mount", "--bind", str(root / "var/lib/nms"), "/var/lib/nms"),
             _sh("mount", "--bind", str(root / "etc/credstore/nms"), "/etc/credstore/nms"),
             _sh("systemd-sysusers", str(root / "usr/lib/sysusers.d/nms.conf")) + f" >>{scratch}/setup.log 2>&1",
             _sh("systemd-tmpfiles", "--create", str(root / "usr/lib/tmpfiles.d/nms.conf"))
             + f" >>{scratch}/setup.log 2>&1"]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    if unit is None:
        lines.append("exec " + _sh(*argv))
        return "\n".join(lines)
    user, group = unit.get("User"), unit.get("Group") or unit.get("User")
    env.update({"USER": user, "LOGNAME": user, "HOME": "/var/lib/nms", "SHELL": "/usr/sbin/nologin"})
    for name in unit.all("StateDirectory"):
        lines.append(_sh("install", "-d", "-o", user, "-g", group, "-m",
                         unit.get("StateDirectoryMode") or "0755", f"/var/lib/{name}"))
    for spec in unit.all("LoadCredential"):
        cred_id, _, source = spec.partition(":")
        creds = "/opt/.credentials"
        lines += [f"mkdir -p {creds} && chmod 0500 {creds}",
                  f"for f in {shlex.quote(source)}/*; do [ -f \"$f\" ] || continue; "
                  f"install -o {user} -m 0400 \"$f\" {creds}/{cred_id}_$(basename \"$f\"); done",
                  f"chown {user} {creds}"]
        env["CREDENTIALS_DIRECTORY"] = creds
    if unit.get("PrivateTmp") == "yes":
        lines.append("mount -t tmpfs -o mode=1777 tmpfs /tmp")
    if unit.get("ProtectSystem") == "strict":
        writable = ["/etc/nms" if p == "/etc/nms" else p for p in unit.all("ReadWritePaths")]
        lines += ["mount -o remount,bind,ro /", "mount -o remount,ro /etc", "mount -o remount,ro /var/lib",
                  "mount -o remount,ro /opt"]
        for path in writable:
            optional = path.startswith("-")
            path = path.lstrip("-")
            if optional:
                lines.append(f"if [ -d {path} ]; then mount --bind {path} {path} && "
                             f"mount -o remount,bind,rw {path}; fi")
            else:
                lines.append(f"mount -o remount,bind,rw {path}")
    umask = unit.get("UMask")
    if umask:
        lines.append(f"umask {umask}")
    env.update(unit.environment())
    env.update(extra_env or {})
    setpriv = ["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups"]
    if unit.get("NoNewPrivileges") == "yes":
        setpriv.append("--no-new-privs")
    bounding = unit.all("CapabilityBoundingSet")
    ambient = unit.all("AmbientCapabilities")
    setpriv += [f"--bounding-set={caps(bounding)}", f"--inh-caps={caps(ambient)}", f"--ambient-caps={caps(ambient)}"]
    lines.append("exec env -i " + _sh(*(f"{k}={v}" for k, v in env.items())) + " " + _sh(*setpriv, "--", *argv))
    return "\n".join(lines)


def start_in_root(root: Path, scratch: Path, unit: Unit | None, argv: list[str], log: Path,
                  extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    scratch.mkdir(parents=True, exist_ok=True)
    script = scratch / "start.sh"
    script.write_text(namespace_script(root, scratch, unit, argv, extra_env), encoding="utf-8")
    out = open(log, "wb")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", str(script)],
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def run_in_root(root: Path, scratch: Path, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``argv`` as root in the installed layout (e.g. systemd-analyze verify)."""
    scratch.mkdir(parents=True, exist_ok=True)
    script = scratch / "run.sh"
    script.write_text(namespace_script(root, scratch, None, argv), encoding="utf-8")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", str(script)],
                          capture_output=True, text=True, timeout=timeout)


def require_namespaces() -> None:
    for tool in ("unshare", "setpriv", "systemd-analyze", "systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            raise AssertionError(f"{tool} is missing: install the Debian packages 'util-linux' and 'systemd'")
    if os.geteuid() != 0:
        raise AssertionError("the installation test runs as root (mount namespaces, setpriv), as `make test` does")
