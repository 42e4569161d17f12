"""What a running lab is made of, kept in ``<run-dir>/lab.json`` (no secrets in it)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.agents import AgentProcess
from lab.processes import ManagedProcess
from nms.i18n import translate
from nms.store import atomic_write_bytes

STATE_FILE = "lab.json"

EXTRA_LABELS = {"softflowd": "lab_extra_softflowd", "asterisk": "lab_extra_asterisk", "calls": "lab_extra_calls",
                "smtpsink": "lab_extra_smtpsink", "alertmanager": "lab_extra_alertmanager"}


@dataclass
class LabState:
    run_dir: Path
    secrets_dir: Path
    config_path: str
    started_at: float
    agent_user: str
    agents: list[AgentProcess]
    endpoints: dict[str, str]  # device -> host:port of its agent
    down_devices: list[str]
    reboots: dict[str, dict[str, float]] = field(default_factory=dict)  # device -> {period, phase}
    wraps: dict[str, float] = field(default_factory=dict)  # device -> epoch of the counter wrap
    prometheus: ManagedProcess | None = None
    prometheus_url: str | None = None
    service_url: str | None = None  # what Prometheus scrapes
    alertmanager_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    extras: list[ManagedProcess] = field(default_factory=list)  # flow replay, Asterisk
    asterisk_etc: str | None = None  # where the lab Asterisk reads its rendered configuration
    asterisk_name: str | None = None  # its instance (directories /nms/<name> in the rootfs)
    calls: bool = False  # the synthetic caller runs (its AMI account is part of the rendering)
    already_running: bool = False  # set by lab_up when it found the lab up; not stored

    @property
    def state_file(self) -> Path:
        return self.run_dir / STATE_FILE

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes()]

    def processes(self) -> list[ManagedProcess]:
        return [*self.agents, *([self.prometheus] if self.prometheus else []), *self.extras]

    def running(self) -> dict[str, bool]:
        return {p.name: p.running() for p in self.processes()}

    def all_running(self) -> bool:
        return all(self.running().values())

    def to_json(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir), "secrets_dir": str(self.secrets_dir), "config_path": self.config_path,
            "started_at": self.started_at, "agent_user": self.agent_user,
            "agents": [p.to_json() for p in self.agents], "endpoints": self.endpoints,
            "down_devices": self.down_devices, "reboots": self.reboots, "wraps": self.wraps,
            "prometheus": self.prometheus.to_json() if self.prometheus else None,
            "prometheus_url": self.prometheus_url, "service_url": self.service_url,
            "alertmanager_url": self.alertmanager_url, "warnings": self.warnings,
            "extras": [p.to_json() for p in self.extras], "asterisk_etc": self.asterisk_etc,
            "asterisk_name": self.asterisk_name, "calls": self.calls,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        prom = data.get("prometheus")
        return cls(
            run_dir=Path(data["run_dir"]), secrets_dir=Path(data["secrets_dir"]), config_path=data["config_path"],
            started_at=float(data["started_at"]), agent_user=data["agent_user"],
            agents=[AgentProcess.from_json(p) for p in data["agents"]], endpoints=dict(data["endpoints"]),
            down_devices=list(data["down_devices"]), reboots=dict(data.get("reboots", {})),
            wraps=dict(data.get("wraps", {})), prometheus=ManagedProcess.from_json(prom) if prom else None,
            prometheus_url=data.get("prometheus_url"), service_url=data.get("service_url"),
            alertmanager_url=data.get("alertmanager_url"),
            warnings=list(data.get("warnings", [])),
            extras=[ManagedProcess.from_json(p) for p in data.get("extras", [])],
            asterisk_etc=data.get("asterisk_etc"), asterisk_name=data.get("asterisk_name"),
            calls=bool(data.get("calls", False)))

    def save(self) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"
        atomic_write_bytes(self.state_file, text.encode("utf-8"), mode=0o644)

    @classmethod
    def load(cls, run_dir: Path) -> LabState | None:
        try:
            data = json.loads((run_dir / STATE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return cls.from_json(data)

    def describe(self, lang: str = "ko") -> str:
        """A summary for people (``python -m lab status``), in ``lang`` (the shared catalogue, nms.i18n)."""
        def _(msg_id: str, **params: object) -> str:
            return translate(msg_id, lang, **params)

        running = self.running()

        def status(name: str) -> str:
            return _("lab_running") if running[name] else _("lab_stopped_state")

        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at))
        lines = [_("lab_head", run_dir=self.run_dir, started=started, config=self.config_path)]
        for p in self.agents:
            lines.append(_("lab_agent", name=p.name, pid=p.pid, devices=len(p.devices), status=status(p.name),
                           log=p.log))
        lines.append(_("lab_answering", n=len(self.endpoints), user=self.agent_user))
        lines.append(_("lab_down", n=len(self.down_devices), names=", ".join(self.down_devices) or "-"))
        if self.reboots:
            every = min(r["period"] for r in self.reboots.values()) / max(1, len(self.reboots))
            lines.append(_("lab_reboots", minutes=f"{every / 60:.0f}", names=", ".join(self.reboots)))
        for device, at in self.wraps.items():
            lines.append(_("lab_wrap", device=device, when=time.strftime("%H:%M:%S", time.localtime(at))))
        if self.prometheus:
            lines.append(_("lab_prometheus", url=self.prometheus_url, pid=self.prometheus.pid,
                           status=status(self.prometheus.name), target=self.service_url, log=self.prometheus.log))
        for p in self.extras:
            label = _(EXTRA_LABELS[p.name]) if p.name in EXTRA_LABELS else p.name
            lines.append(_("lab_extra", label=label, pid=p.pid, status=status(p.name), log=p.log))
        lines.append(_("lab_secrets", dir=self.secrets_dir))
        lines += [_("lab_warning", text=w) for w in self.warnings]
        return "\n".join(lines)
