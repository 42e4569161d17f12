"""Knobs of the simulated district. The defaults are what ``python -m lab up`` runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PROMETHEUS_LISTEN = "127.0.0.1:9790"
DEFAULT_ALERTMANAGER_LISTEN = "127.0.0.1:9793"
DEFAULT_SMTP_LISTEN = "127.0.0.1:9725"
ALERT_RULES = Path(__file__).resolve().parents[1] / "configs" / "prometheus" / "alerts.yml"
RECORDING_RULES = ALERT_RULES.with_name("recording.yml")


@dataclass(frozen=True)
class LabOptions:
    processes: int = 2
    """snmpsim processes for the SNMPv2c devices; SNMPv3 devices get one more (it runs ``--v3-only``)."""

    down: Sequence[str] | None = None
    """Devices that get no agent, so polls time out. ``None``: a deterministic handful (see faults)."""

    reboot: Sequence[str] | None = None
    """Devices that reboot in turn, one every ``reboot_interval`` seconds. ``None``: chosen automatically."""

    reboot_interval: float = 600.0

    wrap: Sequence[str] | None = None
    """Devices whose busiest port's ifHCInOctets (and ifInErrors, a Counter32) wrap ``wrap_after``
    seconds after ``lab up``. ``None``: chosen automatically."""

    wrap_after: float = 180.0

    prometheus_listen: str = DEFAULT_PROMETHEUS_LISTEN

    alertmanager: bool = True
    """With Prometheus: an Alertmanager with the shipped routing, its e-mail into the lab's SMTP sink
    (Maildir ``<run-dir>/mail``) and its webhook to the service's alert relay."""

    alertmanager_listen: str = DEFAULT_ALERTMANAGER_LISTEN

    smtp_listen: str = DEFAULT_SMTP_LISTEN

    rule_files: Sequence[Path] = field(default_factory=lambda: (ALERT_RULES, RECORDING_RULES))
    """Prometheus rule files: the shipped alert and recording rules."""

    agent_user: str | None = None
    """User the agents run as: ``nobody`` when it can read the venv and the run directory, else root."""

    startup_timeout: float = 180.0

    flows: bool = True
    """Replay generated district traffic with softflowd to the flow collector (settings.flows.listen)."""

    asterisk: bool = True
    """Start the lab Asterisk 22 with the rendered IVR configuration (ivr.yaml beside nms.yaml)."""

    asterisk_name: str = "lab"
    """The lab Asterisk's instance (its directories are ``/nms/<name>`` in the Asterisk root filesystem)."""

    calls: bool = True
    """With the Asterisk: simulated callers dial the district's numbers over AMI and simulated staff answer
    (lab/calls/). The lab renders its own copy of ivr.yaml with the staff simulators as targets."""

    call_rate: float = 1.0
    """Multiplier of the callers' time-of-day rate; 1.0 is about 6 new calls a minute in the busiest office
    hour (a few calls at once), far fewer after hours."""
