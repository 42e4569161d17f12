"""``python -m lab up|down|status``: the whole simulated district as one unit in a run directory."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from lab import processes
from lab.agents import AgentPaths, start_agents
from lab.errors import LabError
from lab.options import LabOptions
from lab.prometheus import scrape_target, start_prometheus, url_of
from lab.state import LabState
from nms.app.district import District

DEFAULT_RUN_DIR = Path(__file__).resolve().parents[1] / "run" / "lab"


def lab_status(run_dir: Path = DEFAULT_RUN_DIR) -> LabState | None:
    """The recorded lab, or None if there is none. ``state.running()`` tells what still runs."""
    return LabState.load(Path(run_dir).resolve())


def lab_up(district: District, run_dir: Path = DEFAULT_RUN_DIR, *, prometheus: bool = True, progress: bool = True,
           options: LabOptions | None = None) -> LabState:
    """Start the agents of every active device (a few stay down) and Prometheus.

    Idempotent: if the lab already runs, it is returned with ``already_running`` set (Prometheus is
    started if it was asked for and is missing). A lab with dead parts is cleaned up and restarted.
    """
    options = options or LabOptions()
    run_dir = Path(run_dir).resolve()
    existing = lab_status(run_dir)
    if existing is not None and all(p.running() for p in existing.agents):
        if prometheus and (existing.prometheus is None or not existing.prometheus.running()):
            _add_prometheus(existing, district, options)
            existing.save()
        existing.already_running = True
        return existing
    if existing is not None:
        lab_down(run_dir)

    started = time.time()
    agents = start_agents(district, run_dir, options=options, progress=progress)
    state = LabState(
        run_dir=run_dir, secrets_dir=agents.secrets_dir, config_path=str(district.config_path),
        started_at=started, agent_user=agents.user, agents=agents.processes,
        endpoints={name: spec.endpoint for name, spec in sorted(agents.specs.items())},
        down_devices=list(agents.faults.down),
        reboots={n: {"period": r.period, "phase": r.phase} for n, r in agents.faults.reboot.items()},
        wraps=dict(agents.faults.wrap), warnings=list(agents.warnings))
    from lab.alertmanager import ensure_token

    ensure_token(Path(state.secrets_dir) / district.settings.alerting.token_secret)  # the relay's, also without AM
    try:
        if prometheus:
            _add_prometheus(state, district, options)
        state.save()
        _add_extras(state, district, options)
        state.save()
    except BaseException:
        for p in state.processes():
            p.stop()
        raise
    return state


def _add_prometheus(state: LabState, district: District, options: LabOptions) -> None:
    listen = district.settings.http.listen
    alertmanager = None
    if options.alertmanager:
        alertmanager = options.alertmanager_listen
        state.extras += _start_alerting(state, district, options)
    state.prometheus = start_prometheus(state.run_dir, listen, options.prometheus_listen, options.rule_files,
                                        alertmanager=alertmanager)
    state.prometheus_url = url_of(options.prometheus_listen)
    state.service_url = f"http://{scrape_target(listen)}/metrics"


def _start_alerting(state: LabState, district: District, options: LabOptions) -> list[processes.ManagedProcess]:
    """The lab's SMTP sink and Alertmanager (the shipped routing, delivering into the lab)."""
    import sys

    from lab.alertmanager import ensure_token, start_alertmanager

    run_dir = state.run_dir
    log = run_dir / "logs" / "smtpsink.log"
    maildir = run_dir / "mail"
    popen = processes.spawn([sys.executable, "-m", "lab.smtpsink", f"--listen={options.smtp_listen}",
                             f"--maildir={maildir}"], log, cwd=Path(__file__).resolve().parents[1])
    sink = processes.ManagedProcess("smtpsink", popen.pid, log, str(maildir), popen)
    _wait_listening(sink, options.smtp_listen)
    token = ensure_token(Path(state.secrets_dir) / district.settings.alerting.token_secret)
    relay = f"http://{scrape_target(district.settings.alerting.listen)}/api/alerts/relay"
    try:
        manager = start_alertmanager(run_dir, options.alertmanager_listen, options.smtp_listen, relay, token)
    except BaseException:
        sink.stop()
        raise
    state.alertmanager_url = url_of(options.alertmanager_listen)
    return [sink, manager]


def _wait_listening(proc: processes.ManagedProcess, listen: str, timeout: float = 20.0) -> None:
    """Return once ``listen`` accepts TCP connections; LabError if ``proc`` exits or time runs out."""
    host, _, port = listen.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1):
                return
        except OSError:
            pass
        if not proc.running() or time.monotonic() > deadline:
            proc.stop()
            raise LabError(proc.name, f"{listen}에서 연결을 받지 않습니다", proc.log, processes.log_tail(proc.log))
        time.sleep(0.1)


def ivr_config_path(district: District) -> Path:
    return Path(district.config_path).parent / "ivr.yaml"


def _add_extras(state: LabState, district: District, options: LabOptions) -> None:
    """The parts beyond SNMP: a flow exporter, the IVR's Asterisk and its simulated callers."""
    if options.flows and district.settings.flows.enabled:
        from lab.flows import start_flow_replay

        state.extras.append(start_flow_replay(district, state.run_dir, district.settings.flows.listen))
    if options.asterisk and ivr_config_path(district).exists():
        from ivr.config import load_config
        from lab import calls
        from lab.asterisk import start_lab_asterisk

        config_path = ivr_config_path(district)
        name = options.asterisk_name
        state.asterisk_name, state.calls = name, options.calls
        prepare, _ = lab_ivr_profile(state)
        handle = start_lab_asterisk(prepare(load_config(config_path)), state.run_dir, name=name,
                                    secrets_dir=state.secrets_dir, lab_extensions=calls.STAFF_DIALPLAN,
                                    extra_ami_users=_lab_ami_users(state))
        inst = handle.instance
        state.extras.append(processes.ManagedProcess(name="asterisk", pid=inst.proc.pid, log=inst.log_path,
                                                     marker=inst.conf, popen=inst.proc))
        state.asterisk_etc = str(inst.etc_dir)
        if options.calls:
            state.extras.append(calls.start_caller(config_path, state.run_dir, state.secrets_dir,
                                                   rate=options.call_rate, recordings=handle.recordings_dir))


def _lab_ami_users(state: LabState) -> tuple:
    from lab import calls

    return (calls.caller_ami_user(state.secrets_dir),) if state.calls else ()


def lab_ivr_profile(state: LabState):
    """``(prepare, render_options)`` for an IvrService driving the lab Asterisk.

    The lab runs its own copy of ivr.yaml (staff simulators answer instead of the offices' phones,
    recordings and protection events stay in the lab), rendered as the lab instance expects. A reload
    from the admin page goes through the same two functions, so it never installs the production
    rendering into the lab.
    """
    from ivr.config import IvrConfig
    from lab import calls
    from lab.asterisk import AsteriskInstance, lab_render_options, rootfs_path
    from nms.secrets import SecretResolver

    name = state.asterisk_name or "lab"
    events = state.run_dir / "ivr" / "events.sqlite3"
    inst = AsteriskInstance(name=name, root=rootfs_path())
    get = SecretResolver(state.secrets_dir, environ={}).get

    def prepare(config: IvrConfig) -> IvrConfig:
        lab = calls.lab_ivr_config(config, name)
        return lab.model_copy(update={"events": lab.events.model_copy(update={"database": events})})

    def render_options(config: IvrConfig):
        return lab_render_options(config, inst, get, _lab_ami_users(state))

    return prepare, render_options


def lab_down(run_dir: Path = DEFAULT_RUN_DIR) -> None:
    """Stop every process of the lab (SIGTERM, then SIGKILL) and forget its state.

    Processes are found from the state file and, in case it was lost, by the run directory's paths
    in their command lines.
    """
    run_dir = Path(run_dir).resolve()
    state = LabState.load(run_dir)
    failed: list[str] = []
    for p in reversed(state.processes()) if state else []:  # dependents first: the callers before Asterisk
        p.stop()
        if p.running():
            failed.append(f"{p.name} (pid {p.pid})")
    markers = [f"--args-from-file={AgentPaths(run_dir).args}", f"--config.file={run_dir / 'prometheus'}",
               f"--config.file={run_dir / 'alertmanager'}", f"--maildir={run_dir / 'mail'}",
               str(run_dir / "flows"), str(run_dir / "calls")]
    for marker in markers:
        for pid in processes.find_by_marker(marker):
            processes.stop(pid, marker)
            if processes.is_running(pid, marker):
                failed.append(f"pid {pid}")
    if failed:
        raise LabError("down", f"멈추지 않는 프로세스: {', '.join(failed)}")
    (run_dir / "lab.json").unlink(missing_ok=True)
