"""The ``nms`` command: one entry point, one subcommand per job.

One rule for options: the global options (``--config``, ``--secrets-dir``, ``--log-level``,
``--lang``) mean the same at every level, before or after any subcommand (``nms --config X ivr
render`` and ``nms ivr render --config X`` are the same command). Exit codes: :mod:`nms.exitcodes`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nms import __version__, exitcodes
from nms.app.district import DEFAULT_CONFIG, District, load_district
from nms.completion import subparsers_of
from nms.configfile import ConfigError
from nms.i18n import language_from_environment, translate
from nms.secrets import SecretError

if TYPE_CHECKING:
    from nms.admin.settings import AdminSettings
    from nms.reports.schedule import ReportSources

log = logging.getLogger("nms")

EPILOG = """\
configuration:
  --config names nms.yaml (default: the embedded simulated district, configs/nms.yaml); it points to
  inventory.yaml, snmp.yaml and ivr.yaml beside it. Secrets never live in these files: a secret NAME
  is read from the environment variable NMS_SECRET_<NAME> or from the file NAME in the secrets
  directory (--secrets-dir, $NMS_SECRETS_DIR, $CREDENTIALS_DIRECTORY, or /run/secrets/nms).

options:
  --config, --secrets-dir, --log-level and --lang may be given before or after any subcommand,
  with the same meaning (nms --config X ivr render = nms ivr render --config X).
  Messages are Korean when LANG/LC_ALL/LC_MESSAGES is ko_*, English otherwise; --lang ko|en overrides.

reload:
  a running `nms run` or `nms collect` reloads its configuration on SIGHUP or POST /-/reload
  (with the secret http-reload-token);
  an invalid configuration is refused and the last good one stays in force.

examples:
  nms run                             every service of the configuration, one /metrics
  nms inventory summary --json        the seed tables, computed from the inventory
  nms collect --once                  poll every active device once and print the result

  nms completion bash > /etc/bash_completion.d/nms   shell completion

the simulated district (a development checkout only, not installed with nms):
  python -m lab run                   simulated district + every service (what `make run` does)
  python -m lab up | status | down    the simulated district on its own

""" + exitcodes.HELP


def setup_logging(level: str) -> None:
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
    """Every file the service loads (nms.yaml, snmp.yaml, the inventory, ivr.yaml), every problem at once."""
    from nms.app.check import check_configuration

    report = check_configuration(Path(args.config))
    if report.problems:
        raise ConfigError(report.problems)
    district = report.district
    inv = district.inventory
    active = sum(1 for _ in inv.active_devices())
    lang = args.lang or language_from_environment()
    ivr = translate("cli_config_ivr", lang, lines=report.ivr.lines,
                    departments=len(report.ivr.departments)) if report.ivr else ""
    say(args, "cli_config_ok", config=district.config_path, sites=len(inv.sites), devices=len(inv.devices),
        active=active, profiles=len(district.snmp.profiles), ivr=ivr)
    for path in report.files:
        say(args, "cli_checked", path=path)
    return 0


def cmd_import_netbox(args: argparse.Namespace) -> int:
    from collectors.snmp.config import load_snmp_config
    from nms.inventory.netbox import run_import_netbox

    if args.target:
        target = Path(args.target)
    else:  # the configured inventory, even when the current one does not validate (it is being replaced)
        from nms.app.settings import Settings
        from nms.configfile import read_yaml, validate

        config = Path(args.config)
        inventory = validate(read_yaml(config), Settings).inventory
        configured = inventory.file(config.parent)
        if configured is None:
            print(f"nms: {config}: the inventory comes from the {inventory.plugin} plugin, not a file; "
                  "name the file to write with --target", file=sys.stderr)
            return 2
        target = configured
    return run_import_netbox(args.url, args.token_env, target, args.apply, sys.stdout, load_snmp_config)


# -- collector ---------------------------------------------------------------------------------
def _snmp_collector(args: argparse.Namespace, district: District):
    from collectors.snmp.service import SnmpCollector
    from nms.inventory.shard import parse_shard
    from nms.secrets import SecretResolver

    shard = parse_shard(args.shard) if getattr(args, "shard", None) else None
    secrets = SecretResolver(Path(args.secrets_dir) if args.secrets_dir else None)
    return SnmpCollector(district, secrets, shard=shard)


async def _collect_once(collector, args: argparse.Namespace) -> int:
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
        say(args, "cli_device_down", device=s.device, message=s.message)
    say(args, "cli_devices_answered", ok=len(samples) - len(failed), total=len(samples),
        varbinds=sum(s.varbinds for s in samples))
    return exitcodes.FAILED if failed else exitcodes.OK


def check_snmp_secrets(args: argparse.Namespace, district: District) -> None:
    """Every secret the active devices need, looked up before polling: all missing ones in one SecretError."""
    from nms.app.check import secret_names
    from nms.secrets import SecretResolver

    SecretResolver(Path(args.secrets_dir) if args.secrets_dir else None).require(secret_names(district))


def cmd_collect(args: argparse.Namespace) -> int:
    district = _load(args)
    check_snmp_secrets(args, district)
    if args.metrics:  # a shard's own /metrics (nms-collect@.service), instead of http.listen
        from dataclasses import replace

        from nms.app.settings import HttpSettings

        http = HttpSettings(listen=args.metrics)
        district = replace(district, settings=district.settings.model_copy(update={"http": http}))
    collector = _snmp_collector(args, district)
    if args.once:
        return asyncio.run(_collect_once(collector, args))
    return _run_services(args, district, [collector])


# -- running everything ------------------------------------------------------------------------
def _run_services(args: argparse.Namespace, district: District, services: list, admin=None) -> int:
    from nms.secrets import SecretResolver
    from nms.service import ServiceRunner

    secrets = SecretResolver(Path(args.secrets_dir) if getattr(args, "secrets_dir", None) else None)
    runner = ServiceRunner(Path(args.config), district, services + ([admin] if admin else []), secrets=secrets)
    if admin is not None:
        admin.attach(runner)
        print(f"admin page: {admin.url}", file=sys.stderr)
    print(f"nms {__version__}: serving http://{district.settings.http.listen}/metrics "
          f"({', '.join(s.name for s in services)}); Ctrl-C stops", file=sys.stderr)
    asyncio.run(runner.run())
    return 0


@dataclass(frozen=True)
class IvrOverrides:
    """How a caller that hosts its own Asterisk (the lab) redirects the IVR service: where the
    rendered configuration goes, and the prepare/render hooks applied on every (re)load."""

    asterisk_etc: Path
    prepare: Callable | None = None
    render_options: Callable | None = None


def _services(args: argparse.Namespace, district: District, ivr_overrides: IvrOverrides | None = None) -> list:
    """Every service that the configuration enables, in start order."""
    from nms.inventory.metrics import InventoryService
    from nms.secrets import SecretResolver

    secrets = SecretResolver(Path(args.secrets_dir) if args.secrets_dir else None)
    services = [InventoryService(district), _snmp_collector(args, district)]
    if district.settings.flows.enabled:
        from collectors.flows.service import FlowService

        services.append(FlowService(district))
    if district.settings.traps.enabled:
        from collectors.traps.service import TrapReceiverService

        services.append(TrapReceiverService(district, secrets))
    if district.settings.alerting.enabled:
        from nms.alerting.service import AlertRelayService

        services.append(AlertRelayService(district, secrets))
    ivr = district.settings.ivr
    if ivr.enabled:
        from ivr.service import IvrService

        config = ivr.config if ivr.config.is_absolute() else district.config_path.parent / ivr.config
        if ivr_overrides is not None:
            services.append(IvrService(config, secrets=secrets, asterisk_etc=ivr_overrides.asterisk_etc,
                                       render_options=ivr_overrides.render_options,
                                       prepare=ivr_overrides.prepare))
        else:
            services.append(IvrService(config, secrets=secrets, asterisk_etc=ivr.asterisk_etc))
    if district.settings.reports.schedule:
        from nms.reports.schedule import ReportService

        services.append(ReportService(district, report_inputs))
    return services


def _admin_service(district: District, settings: AdminSettings | None = None):
    """The admin page, with ``settings`` instead of nms.yaml's ``admin:`` when given (the lab's own)."""
    from nms.admin.service import AdminService
    from nms.admin.workspace import admin_settings

    return AdminService(district, settings=settings or admin_settings(district))


def run_district(args: argparse.Namespace, district: District, *, ivr_overrides: IvrOverrides | None = None,
                 admin_settings: AdminSettings | None = None) -> int:
    """Start every enabled service and serve until a signal: ``nms run``, and ``python -m lab run``."""
    check_snmp_secrets(args, district)
    services = _services(args, district, ivr_overrides)  # SecretError: exit code SECRET
    admin = _admin_service(district, admin_settings) if district.settings.admin.enabled else None
    return _run_services(args, district, services, admin)


def cmd_run(args: argparse.Namespace) -> int:
    return run_district(args, _load(args))


# -- reports -------------------------------------------------------------------------------------
def report_sources(district: District) -> tuple[str, Path | None]:
    """The Prometheus URL and the IVR event store a report reads (None: the IVR is not configured)."""
    from ivr.config import load_config

    ivr_config = district.config_path.parent / district.settings.ivr.config
    events = load_config(ivr_config).events.database if ivr_config.is_file() else None
    return district.settings.reports.prometheus, events


def report_directory(district: District) -> Path:
    """Where scheduled reports are kept (reports.directory, relative to nms.yaml)."""
    return district.config_path.parent / district.settings.reports.directory


def report_inputs(district: District) -> ReportSources:
    from nms.reports.schedule import ReportSources

    url, events = report_sources(district)
    return ReportSources(district.inventory, url, events, report_directory(district))


def cmd_report(args: argparse.Namespace) -> int:
    from nms.reports import period as periods
    from nms.reports.generate import generate
    from nms.reports.promapi import PrometheusError

    try:
        period = periods.month(args.month) if args.report_kind == "monthly" else periods.year(args.year)
    except periods.PeriodError as exc:
        print(f"nms report: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    district = _load(args)
    url, events = report_sources(district)
    url = args.prometheus or url
    events = args.events if args.events is not None else events
    try:
        figures, paths = generate(period, district.inventory, url, events, Path(args.out))
    except PrometheusError as exc:
        print(f"nms report: {exc}", file=sys.stderr)
        return exitcodes.UNAVAILABLE
    if not figures.has_data:
        print(f"{period.title}: 수집된 데이터가 없습니다 (보고서에 '데이터 없음'으로 표시)", file=sys.stderr)
    for path in paths:
        print(path)
    return 0


# -- backup and restore ------------------------------------------------------------------------------
def _with_progress(name: str, job: Callable) -> tuple[int, object]:
    """Run a backup or restore ``job(progress)`` with a file counter on a terminal; (exit code, result)."""
    from tqdm import tqdm

    from nms.backup import BackupError

    bar = tqdm(desc="files", unit="file", file=sys.stderr) if sys.stderr.isatty() else None
    try:
        return exitcodes.OK, job((lambda _path: bar.update()) if bar is not None else None)
    except BackupError as exc:
        print(f"nms {name}: {exc}", file=sys.stderr)
        return exitcodes.FAILED, None
    finally:
        if bar is not None:
            bar.close()


def cmd_backup(args: argparse.Namespace) -> int:
    from nms.backup import backup

    code, manifest = _with_progress("backup", lambda progress: backup(
        Path(args.config), Path(args.out), with_recordings=args.with_recordings, progress=progress))
    if code != exitcodes.OK:
        return code
    members = manifest["members"]
    size = sum(int(m["size"]) for m in members)
    recordings = translate("cli_backup_recordings", args.lang or language_from_environment()) \
        if args.with_recordings else ""
    say(args, "cli_backup_done", out=args.out, files=len(members), mb=size / 1e6, recordings=recordings)
    return exitcodes.OK


def cmd_restore(args: argparse.Namespace) -> int:
    from nms.backup import restore

    code, plan = _with_progress("restore", lambda progress: restore(
        Path(args.archive), Path(args.config), root=Path(args.root) if args.root else None, force=args.force,
        progress=progress))
    if code == exitcodes.OK:
        say(args, "cli_restore_done", files=len(plan.files), config=plan.config)
    return code


# -- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nms", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Network and telephony management for Geumcheon-gu: SNMP and flow collection into "
                    "Prometheus, the 60-line auto-answer IVR on Asterisk, and the admin page.")
    parser.add_argument("--version", action="version", version=f"nms {__version__}")
    add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str, **kw) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(func=func)
        return p

    p = add("run", cmd_run, "run every service (SNMP and flow collectors, IVR controller) with one /metrics")

    p = add("collect", cmd_collect, "run the SNMP collector alone")
    p.add_argument("--once", action="store_true", help="poll every active device once, print, exit")
    p.add_argument("--shard", metavar="I/N", help="poll only shard I of N (stable hash of the device name)")
    p.add_argument("--metrics", metavar="HOST:PORT", help="serve /metrics here instead of http.listen of nms.yaml "
                   "(one port per shard)")

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

    p = add("report", lambda a: exitcodes.USAGE, "monthly and yearly reports (Korean PDF and Excel) from "
            "Prometheus's recording rules and the IVR event store")
    rsub = p.add_subparsers(dest="report_kind", required=True, metavar="KIND")
    for kind, flag, example in (("monthly", "--month", "2026-11"), ("yearly", "--year", "2026")):
        r = rsub.add_parser(kind, help=f"the report of one {'month' if kind == 'monthly' else 'year'} "
                                       f"(Asia/Seoul calendar), e.g. {flag} {example}",
                            description="Writes a Korean PDF and an Excel workbook with the same tables: sites and "
                                        "APs by category and install year, AP availability (categories, install "
                                        "years, worst 10 sites, map), clients and traffic per category by day, "
                                        "phone lines, calls by outcome, protection events by department and kind. "
                                        "Exit 5 if Prometheus cannot be asked, 2 on a bad period.")
        r.add_argument(flag, required=True, metavar="YYYY-MM" if kind == "monthly" else "YYYY",
                       help=f"the {'month' if kind == 'monthly' else 'year'} to report; a period without data "
                            "says so in the report instead of showing zeros")
        r.add_argument("--out", required=True, metavar="DIR", help="write report-<kind>-<period>.pdf and .xlsx here")
        r.add_argument("--prometheus", metavar="URL", help="Prometheus with configs/prometheus/recording.yml "
                                                           "(default: reports.prometheus in nms.yaml)")
        r.add_argument("--events", type=Path, metavar="SQLITE", help="the IVR event store (default: events.database "
                                                                     "of the configured ivr.yaml)")
        r.set_defaults(func=cmd_report)

    p = add("backup", cmd_backup, "back up configuration (with history), admin state, IVR events and announcement "
            "audio into one archive (SQLite copied with the online backup API; created 0600)")
    p.add_argument("--out", required=True, metavar="FILE", help="the archive to write (.tar.gz; never overwritten)")
    p.add_argument("--with-recordings", action="store_true", help="also the call recordings")

    p = add("restore", cmd_restore, "restore a backup: nms.yaml goes where --config names, state where the "
            "restored configuration says; checks the whole archive first")
    p.add_argument("archive", metavar="FILE", help="an archive written by `nms backup`")
    p.add_argument("--root", metavar="DIR", help="put every absolute path under DIR (e.g. to inspect a backup)")
    p.add_argument("--force", action="store_true", help="overwrite existing state, even of a running service")

    from collectors.flows.cli import register as register_flows
    from ivr.cli import register as register_ivr
    from nms.admin.cli import register as register_admin

    register_flows(sub, load_district)
    register_ivr(sub, ivr_config_of)
    register_admin(sub, load_district)

    p = add("completion", cmd_completion, "print a shell completion script: "
            "nms completion bash > /etc/bash_completion.d/nms")
    p.add_argument("shell", choices=["bash"])
    for_every_subparser(parser, add_global_options)
    return parser


def ivr_config_of(config: Path) -> Path:
    """The ivr.yaml that nms.yaml names (``ivr.config``, relative to nms.yaml)."""
    from nms.app.settings import Settings
    from nms.configfile import read_yaml, validate

    path = validate(read_yaml(Path(config)), Settings).ivr.config
    return path if path.is_absolute() else Path(config).parent / path


GLOBAL_OPTIONS = ("--config", "--secrets-dir", "--log-level", "--lang")


def add_global_options(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """The options every level accepts. Below the top they default to "not given" (SUPPRESS), so a
    value given at any level reaches the command, and the last one given wins."""
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    known = {s for a in parser._actions for s in a.option_strings}
    if "--config" not in known:
        parser.add_argument("--config", default=default(str(DEFAULT_CONFIG)), metavar="NMS_YAML",
                            help="nms.yaml to use (default: the embedded simulated district)")
    if "--secrets-dir" not in known:
        parser.add_argument("--secrets-dir", default=default(None), metavar="DIR",
                            help="directory of secret files (default: $NMS_SECRETS_DIR, $CREDENTIALS_DIRECTORY, "
                                 "/run/secrets/nms)")
    if "--log-level" not in known:
        parser.add_argument("--log-level", default=default("info"), choices=["debug", "info", "warning", "error"])
    if "--lang" not in known:
        parser.add_argument("--lang", default=default(None), choices=["ko", "en"],
                            help="language of messages (default: from LANG/LC_ALL/LC_MESSAGES)")


def for_every_subparser(parser: argparse.ArgumentParser, apply: Callable[[argparse.ArgumentParser], None]) -> None:
    for child in subparsers_of(parser).values():
        apply(child)
        for_every_subparser(child, apply)


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the parser tree (``("inventory", "list")``, ...), parents included."""
    out = []
    for name, child in subparsers_of(parser).items():
        out.append((*prefix, name))
        out.extend(command_paths(child, (*prefix, name)))
    return out


def cmd_completion(args: argparse.Namespace) -> int:
    from nms.completion import bash_script

    print(bash_script(build_parser()))
    return exitcodes.OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.lang = args.lang or language_from_environment()
    setup_logging(args.log_level)
    return main_guard(lambda: args.func(args), args.lang)


def say(args: argparse.Namespace, msg_id: str, /, file=None, **params: object) -> None:
    """Print a catalogue message in the user's language (``--lang``, else the locale)."""
    print(translate(msg_id, getattr(args, "lang", None) or language_from_environment(), **params),
          file=file or sys.stdout)


def main_guard(job: Callable[[], int], lang: str | None = None) -> int:
    """Run ``job``: an invalid configuration, a missing secret, a closed output and Ctrl-C each get
    their own exit code (nms.exitcodes) and a plain message in the user's language, never a traceback."""
    lang = lang or language_from_environment()
    try:
        code = job()
        sys.stdout.flush()
        return code
    except ConfigError as exc:
        print(f"nms: {translate('cli_invalid_config', lang)}\n{exc.text(lang)}", file=sys.stderr)
        return exitcodes.CONFIG
    except SecretError as exc:
        print(f"nms: {translate('cli_missing_secret', lang)}\n{exc}", file=sys.stderr)
        return exitcodes.SECRET
    except BrokenPipeError:
        # The reader left (`nms inventory list | head`): stop quietly. Python would otherwise report
        # the error again when it flushes stdout at exit.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return exitcodes.OUTPUT_CLOSED
    except KeyboardInterrupt:
        return exitcodes.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
