"""``python -m lab run|up|down|status``: the simulated district's own entry point (what `make run` uses).

The lab is not part of the shipped ``nms`` package: it drives the application (``nms.cli``) from
outside, so nothing shipped ever imports it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from lab.control import DEFAULT_RUN_DIR, lab_down, lab_status, lab_up
from lab.state import LabState
from nms.admin.settings import AdminSettings
from nms.app.district import DEFAULT_CONFIG, District, load_district
from nms.cli import IvrOverrides, main_guard, run_district, say, setup_logging
from nms.i18n import language_from_environment


def _lab_admin_settings(district: District, state: LabState) -> AdminSettings:
    """The admin page of the lab: its own state, and a generated admin login (no default password)."""
    from lab.asterisk import rootfs_path
    from lab.labsecrets import ensure_admin_login, ensure_reload_token
    from nms.admin.workspace import admin_settings

    state_dir = Path(state.run_dir) / "admin"
    settings = admin_settings(district).model_copy(update={
        "state_dir": state_dir, "users_db": state_dir / "users.sqlite3",
        "sounds_dir": rootfs_path() / "usr/share/asterisk/sounds", "alertmanager_url": state.alertmanager_url})
    name, secret_file = ensure_admin_login(settings.users_db, Path(state.secrets_dir))
    print(f"admin page login (lab only): user {name}, password in {secret_file}", file=sys.stderr)
    token = ensure_reload_token(Path(state.secrets_dir))
    print(f"reload: curl -X POST -H \"Authorization: Bearer $(cat {token})\" "
          f"http://{district.http_listen}/-/reload", file=sys.stderr)
    return settings


def _lab_district(district: District, run_dir: Path) -> District:
    """The lab keeps the alert relay's delivery log in its run directory, as it does the admin page's state."""
    alerting = district.settings.alerting.model_copy(
        update={"log": run_dir.resolve() / "alerting" / "deliveries.jsonl"})
    return dataclasses.replace(district, settings=district.settings.model_copy(update={"alerting": alerting}))


def cmd_run(args: argparse.Namespace) -> int:
    """The simulated district, then every service of nms.yaml pointed at it; the lab stops on exit."""
    district = load_district(Path(args.config))
    run_dir = Path(args.run_dir)
    state = lab_up(district, run_dir, prometheus=not args.no_prometheus, progress=True)
    os.environ["NMS_SECRETS_DIR"] = str(state.secrets_dir)
    args.secrets_dir = str(state.secrets_dir)
    print(state.describe(args.lang), file=sys.stderr)
    try:
        overrides = None
        if state.asterisk_etc:
            from lab.control import lab_ivr_profile

            prepare, render_options = lab_ivr_profile(state)
            overrides = IvrOverrides(Path(state.asterisk_etc), prepare, render_options)
        return run_district(args, _lab_district(district, run_dir), ivr_overrides=overrides,
                            admin_settings=_lab_admin_settings(district, state))
    finally:
        if not args.keep_lab:
            lab_down(run_dir)


def cmd_lab(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    if args.action == "up":
        state = lab_up(load_district(Path(args.config)), run_dir, prometheus=not args.no_prometheus, progress=True)
        print(state.describe(args.lang))
        return 0
    if args.action == "down":
        lab_down(run_dir)
        say(args, "lab_stopped", run_dir=run_dir)
        return 0
    state = lab_status(run_dir)
    if state is None:
        say(args, "lab_none", run_dir=run_dir)
        return 1
    print(state.describe(args.lang))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lab",
        description="The simulated Geumcheon-gu district on loopback: real SNMP agents for every active "
                    "device, Prometheus, a flow exporter, the lab's Asterisk and its simulated callers.")
    parser.add_argument("action", choices=["run", "up", "down", "status"],
                        help="run: the lab and then every service (Ctrl-C stops both); up/down/status: the lab alone")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="nms.yaml to use (default: %(default)s)")
    parser.add_argument("--run-dir", default=str(DEFAULT_RUN_DIR), help="lab state directory (default: %(default)s)")
    parser.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    parser.add_argument("--keep-lab", action="store_true", help="with run: leave the lab running on exit")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--lang", default=None, choices=["ko", "en"],
                        help="language of messages (default: from LANG/LC_ALL/LC_MESSAGES)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.secrets_dir = None
    setup_logging(args.log_level)
    args.lang = args.lang or language_from_environment()
    return main_guard(lambda: cmd_run(args) if args.action == "run" else cmd_lab(args), args.lang)


if __name__ == "__main__":
    sys.exit(main())
