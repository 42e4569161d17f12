"""The ``nms`` command: one entry point, one subcommand per job.

Exit codes: 0 success, 1 the job failed (e.g. devices unreachable with --once), 2 bad usage or an
invalid configuration (the message names the file, line and key).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from nms import __version__
from nms.configfile import ConfigError
from nms.district import DEFAULT_CONFIG, District, load_district

log = logging.getLogger("nms")
DEFAULT_RUN_DIR = Path(__file__).resolve().parent.parent / "run" / "lab"

EPILOG = """\
configuration:
  --config names nms.yaml (default: the embedded simulated district, configs/nms.yaml); it points to
  inventory.yaml and snmp.yaml beside it. Secrets never live in these files: a secret NAME is read
  from the environment variable NMS_SECRET_<NAME> or from the file NAME in the secrets directory
  (--secrets-dir, $NMS_SECRETS_DIR, $CREDENTIALS_DIRECTORY, or /run/secrets/nms).

reload:
  a running `nms run` or `nms collect` reloads its configuration on SIGHUP or POST /-/reload;
  an invalid configuration is refused and the last good one stays in force.

examples:
  nms run --lab                       simulated district + every service (what `make run` does)
  nms inventory summary --json        the seed tables, computed from the inventory
  nms collect --once                  poll every active device once and print the result
  nms lab up | status | down          the simulated district on its own
"""


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level.upper() != "DEBUG":  # one line per job run is noise at the district's scale
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _load(args: argparse.Namespace) -> District:
    return load_district(Path(args.config))


# -- inventory ---------------------------------------------------------------------------------
def cmd_inventory_summary(args: argparse.Namespace) -> int:
    from nms.inventory.summary import format_tables, summarize

    summary = summarize(_load(args).inventory)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(format_tables(summary))
    return 0


def cmd_inventory_list(args: argparse.Namespace) -> int:
    district = _load(args)
    sites = district.inventory.site_by_id()
    rows = []
    for d in district.inventory.devices:
        site = sites[d.site]
        if args.role and d.role.value != args.role:
            continue
        if args.category and site.category.value != args.category:
            continue
        if args.status and d.status.value != args.status:
            continue
        if args.site and args.site not in (site.id, site.name):
            continue
        rows.append((d.name, d.role.value, site.id, site.category.value, f"{d.address}:{d.port}",
                     d.profile, d.status.value))
    if args.json:
        keys = ("name", "role", "site", "category", "address", "profile", "status")
        print(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print("  ".join(f"{v:<{w}}" for v, w in zip(r, (20, 9, 16, 11, 22, 12, 8), strict=True)))
        print(f"{len(rows)} device(s)", file=sys.stderr)
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    district = _load(args)
    inv = district.inventory
    active = sum(1 for _ in inv.active_devices())
    print(f"{district.config_path}: OK — {len(inv.sites)} sites, {len(inv.devices)} devices "
          f"({active} active), {len(district.snmp.profiles)} SNMP profiles")
    return 0


def cmd_import_netbox(args: argparse.Namespace) -> int:
    from nms.inventory.netbox import run_import_netbox

    if args.target:
        target = Path(args.target)
    else:  # the configured inventory, even when the current one does not validate (it is being replaced)
        from nms.configfile import read_yaml, validate
        from nms.settings import Settings

        config = Path(args.config)
        inventory = validate(read_yaml(config), Settings).inventory
        target = inventory if inventory.is_absolute() else config.parent / inventory
    return run_import_netbox(args.url, args.token_env, target, args.apply, sys.stdout)


# -- collector ---------------------------------------------------------------------------------
def _snmp_collector(args: argparse.Namespace, district: District):
    from collectors.snmp.service import SnmpCollector
    from nms.inventory.shard import parse_shard
    from nms.secrets import SecretResolver

    shard = parse_shard(args.shard) if getattr(args, "shard", None) else None
    secrets = SecretResolver(Path(args.secrets_dir) if args.secrets_dir else None)
    return SnmpCollector(district, secrets, shard=shard)


async def _collect_once(collector) -> int:
    from tqdm import tqdm

    await collector.poller.open()
    try:
        devices = collector.devices()
        bar = tqdm(total=len(devices), desc="polling", unit="dev", file=sys.stderr,
                   disable=not sys.stderr.isatty())

        async def one(device):
            sample = await collector.poll_device(device)
            bar.update()
            return sample

        samples = await asyncio.gather(*(one(d) for d in devices))
        bar.close()
    finally:
        collector.poller.close()
    failed = [s for s in samples if not s.ok]
    for s in failed:
        print(f"DOWN {s.device}: {s.message}")
    print(f"{len(samples) - len(failed)}/{len(samples)} devices answered, "
          f"{sum(s.varbinds for s in samples)} varbinds")
    return 1 if failed else 0


def cmd_collect(args: argparse.Namespace) -> int:
    district = _load(args)
    collector = _snmp_collector(args, district)
    if args.once:
        return asyncio.run(_collect_once(collector))
    return _run_services(args, district, [collector])


# -- running everything ------------------------------------------------------------------------
def _run_services(args: argparse.Namespace, district: District, services: list, admin=None) -> int:
    from nms.service import ServiceRunner

    runner = ServiceRunner(Path(args.config), district, services + ([admin] if admin else []))
    if admin is not None:
        admin.attach(runner)
        print(f"admin page: {admin.url}", file=sys.stderr)
    print(f"nms {__version__}: serving http://{district.settings.http.listen}/metrics "
          f"({', '.join(s.name for s in services)}); Ctrl-C stops", file=sys.stderr)
    asyncio.run(runner.run())
    return 0


def _services(args: argparse.Namespace, district: District, lab_state=None) -> list:
    """Every service that the configuration enables, in start order."""
    from nms.inventory.metrics import InventoryService

    services = [InventoryService(district), _snmp_collector(args, district)]
    if district.settings.flows.enabled:
        from collectors.flows.service import FlowService

        services.append(FlowService(district))
    if district.settings.traps.enabled:
        from collectors.traps.service import TrapReceiverService
        from nms.secrets import SecretResolver

        services.append(TrapReceiverService(district, SecretResolver(Path(args.secrets_dir) if args.secrets_dir
                                                                     else None)))
    if district.settings.alerting.enabled:
        from nms.alerting.service import AlertRelayService
        from nms.secrets import SecretResolver

        services.append(AlertRelayService(district, SecretResolver(Path(args.secrets_dir) if args.secrets_dir
                                                                   else None)))
    ivr = district.settings.ivr
    if ivr.enabled:
        from ivr.service import IvrService
        from nms.secrets import SecretResolver

        config = ivr.config if ivr.config.is_absolute() else district.config_path.parent / ivr.config
        secrets = SecretResolver(Path(args.secrets_dir) if args.secrets_dir else None)
        if lab_state is not None and lab_state.asterisk_etc:
            from nms.lab.control import lab_ivr_profile

            prepare, render_options = lab_ivr_profile(lab_state)
            services.append(IvrService(config, secrets=secrets, asterisk_etc=Path(lab_state.asterisk_etc),
                                       render_options=render_options, prepare=prepare))
        else:
            services.append(IvrService(config, secrets=secrets, asterisk_etc=ivr.asterisk_etc))
    return services


def _admin_service(district: District, lab_state=None):
    """The admin page; in the lab, with its own state and a generated admin login (no default password)."""
    from nms.admin.service import AdminService
    from nms.admin.workspace import admin_settings

    settings = admin_settings(district)
    if lab_state is not None:
        from nms.lab.asterisk import rootfs_path
        from nms.lab.labsecrets import ensure_admin_login

        state_dir = Path(lab_state.run_dir) / "admin"
        settings = settings.model_copy(update={
            "state_dir": state_dir, "users_db": state_dir / "users.sqlite3",
            "sounds_dir": rootfs_path() / "usr/share/asterisk/sounds",
            "alertmanager_url": lab_state.alertmanager_url})
        name, secret_file = ensure_admin_login(settings.users_db, Path(lab_state.secrets_dir))
        print(f"admin page login (lab only): user {name}, password in {secret_file}", file=sys.stderr)
    return AdminService(district, settings=settings)


def cmd_run(args: argparse.Namespace) -> int:
    from nms.secrets import SecretError

    district = _load(args)
    lab_state = None
    if args.lab:
        from nms.lab import lab_up

        lab_state = lab_up(district, Path(args.run_dir), prometheus=not args.no_prometheus, progress=True)
        os.environ["NMS_SECRETS_DIR"] = str(lab_state.secrets_dir)
        args.secrets_dir = str(lab_state.secrets_dir)
        print(lab_state.describe(), file=sys.stderr)
    try:
        services = _services(args, district, lab_state)
    except SecretError as exc:
        print(f"nms: {exc}", file=sys.stderr)
        return 2
    admin = _admin_service(district, lab_state) if district.settings.admin.enabled else None
    try:
        return _run_services(args, district, services, admin)
    finally:
        if lab_state is not None and not args.keep_lab:
            from nms.lab import lab_down

            lab_down(Path(args.run_dir))


# -- lab -----------------------------------------------------------------------------------------
def cmd_lab(args: argparse.Namespace) -> int:
    from nms.lab import lab_down, lab_status, lab_up

    run_dir = Path(args.run_dir)
    if args.lab_action == "up":
        state = lab_up(_load(args), run_dir, prometheus=not args.no_prometheus, progress=True)
        print(state.describe())
        return 0
    if args.lab_action == "down":
        lab_down(run_dir)
        print(f"lab in {run_dir} stopped")
        return 0
    state = lab_status(run_dir)
    if state is None:
        print(f"no lab in {run_dir}")
        return 1
    print(state.describe())
    return 0


# -- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nms", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Network and telephony management for Geumcheon-gu: SNMP and flow collection into "
                    "Prometheus, the 60-line auto-answer IVR on Asterisk, and the admin page.")
    parser.add_argument("--version", action="version", version=f"nms {__version__}")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG),
                        help="nms.yaml to use (default: %(default)s)")
    parser.add_argument("--secrets-dir", default=None, help="directory of secret files (see below)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str, **kw) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(func=func)
        return p

    p = add("run", cmd_run, "run every service (SNMP and flow collectors, IVR controller) with one /metrics")
    p.add_argument("--lab", action="store_true", help="first start the simulated district (nms lab up)")
    p.add_argument("--run-dir", default=str(DEFAULT_RUN_DIR), help="lab state directory (default: %(default)s)")
    p.add_argument("--no-prometheus", action="store_true", help="with --lab: do not start Prometheus")
    p.add_argument("--keep-lab", action="store_true", help="with --lab: leave the lab running on exit")

    p = add("collect", cmd_collect, "run the SNMP collector alone")
    p.add_argument("--once", action="store_true", help="poll every active device once, print, exit")
    p.add_argument("--shard", metavar="I/N", help="poll only shard I of N (stable hash of the device name)")

    p = add("config", lambda a: cmd_config_check(a), "configuration commands")
    csub = p.add_subparsers(dest="config_action", required=True, metavar="ACTION")
    c = csub.add_parser("check", help="validate nms.yaml, inventory.yaml and snmp.yaml together")
    c.set_defaults(func=cmd_config_check)

    p = add("inventory", lambda a: 2, "inspect and import the inventory")
    isub = p.add_subparsers(dest="inventory_action", required=True, metavar="ACTION")
    s = isub.add_parser("summary", help="the seed tables (sites and APs by category and by year)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_inventory_summary)
    s = isub.add_parser("check", help="validate the configuration (same as `nms config check`)")
    s.set_defaults(func=cmd_config_check)
    s = isub.add_parser("list", help="list devices, filtered")
    s.add_argument("--role", choices=["backbone", "access", "ips", "ap", "host"])
    s.add_argument("--category", choices=["government", "park", "welfare", "market", "street"])
    s.add_argument("--status", choices=["active", "planned", "disabled"])
    s.add_argument("--site", help="site id or name")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_inventory_list)
    s = isub.add_parser("import-netbox", help="import sites and devices from NetBox (dry run unless --apply)")
    s.add_argument("url", help="NetBox base URL, e.g. https://netbox.example.org")
    s.add_argument("--token-env", required=True, metavar="VAR", help="environment variable holding the API token")
    s.add_argument("--apply", action="store_true", help="write the new inventory (atomically, with history)")
    s.add_argument("--target", help="inventory file to write (default: the configured inventory.yaml)")
    s.set_defaults(func=cmd_import_netbox)

    p = add("lab", cmd_lab, "the simulated district: SNMP agents and Prometheus on loopback")
    p.add_argument("lab_action", choices=["up", "down", "status"])
    p.add_argument("--run-dir", default=str(DEFAULT_RUN_DIR), help="lab state directory (default: %(default)s)")
    p.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")

    from collectors.flows.cli import register as register_flows
    from ivr.cli import register as register_ivr
    from nms.admin.cli import register as register_admin

    register_flows(sub)
    register_ivr(sub)
    register_admin(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"nms: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
