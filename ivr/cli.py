"""Command-line entry points: ``nms ivr`` (run the controller), ``nms ivr render``, ``nms prompts build``.

:func:`register` adds them to the ``nms`` argparse sub-parsers; each sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from ivr.config import IvrConfig, load_config
from nms import exitcodes
from nms.configfile import ConfigError
from nms.secrets import SecretResolver

DEFAULT_METRICS = "127.0.0.1:9703"
IVR_CONFIG_HELP = "ivr.yaml to use instead of the one nms.yaml names (ivr.config)"


def register(subparsers: argparse._SubParsersAction, ivr_config_of: Callable[[Path], Path]) -> None:
    """Add ``ivr`` and ``prompts``. ``--config`` names nms.yaml, as for every command; ``ivr_config_of``
    (given by the application) finds the ivr.yaml it names."""
    ivr = subparsers.add_parser("ivr", help="run the IVR controller (AMI), or render its Asterisk config")
    ivr.add_argument("--ivr-config", type=Path, default=None, help=IVR_CONFIG_HELP)
    ivr.add_argument("--asterisk-etc", type=Path, default=None,
                     help="Asterisk's configuration directory, for reloads")
    ivr.add_argument("--metrics", default=DEFAULT_METRICS, metavar="HOST:PORT",
                     help="serve /metrics, /-/ready and POST /-/reload here ('' for none; default %(default)s)")
    ivr.set_defaults(func=cmd_run, ivr_config_of=ivr_config_of)
    ivr_sub = ivr.add_subparsers(dest="ivr_command")
    render = ivr_sub.add_parser("render", help="write the Asterisk configuration (validated before any secret "
                                                "is read)")
    render.add_argument("--ivr-config", type=Path, default=argparse.SUPPRESS, help=IVR_CONFIG_HELP)
    render.add_argument("--out", type=Path, required=True, help="output directory")
    render.set_defaults(func=cmd_render)

    prompts = subparsers.add_parser("prompts", help="announcement prompts")
    p_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = p_sub.add_parser("build", help="make 8 kHz WAV prompts (Korean TTS, or operator recordings)")
    build.add_argument("--ivr-config", type=Path, default=None, help=IVR_CONFIG_HELP)
    build.set_defaults(ivr_config_of=ivr_config_of)
    build.add_argument("--out", type=Path, required=True, help="the sounds/ko/nms directory")
    build.add_argument("--recording", action="append", default=[], metavar="KEY=FILE",
                       help="use a recorded file for announcement KEY instead of TTS (repeatable)")
    build.add_argument("--keep-existing", action="store_true",
                       help="leave prompts that exist (uploaded recordings, admin-page edits); make only missing ones")
    build.set_defaults(func=cmd_prompts_build)


def _fail(message: str, code: int = exitcodes.FAILED) -> int:
    print(f"nms: {message}", file=sys.stderr)
    return code


def ivr_config_path(args: argparse.Namespace) -> Path:
    """The ivr.yaml a command works on: --ivr-config, else the one nms.yaml (--config) names."""
    return args.ivr_config or args.ivr_config_of(Path(args.config))


def _secrets(args: argparse.Namespace) -> SecretResolver:
    return SecretResolver(Path(args.secrets_dir) if args.secrets_dir else None)


def required_secrets(config: IvrConfig) -> list[str]:
    return [config.ami.secret, *(phone.secret for phone in config.sip.phones)]


def cmd_render(args: argparse.Namespace) -> int:
    """Validate the whole configuration first; only a valid one makes the secrets be looked up."""
    from ivr.render import render

    config = load_config(ivr_config_path(args))  # ConfigError: exit code CONFIG, before any secret
    secrets = _secrets(args)
    secrets.require(required_secrets(config))  # SecretError (all missing ones): exit code SECRET
    try:
        files = render(config, args.out, resolve_secret=secrets.get)
    except ValueError as exc:
        return _fail(str(exc))
    for f in files:
        print(f)
    return 0


def cmd_prompts_build(args: argparse.Namespace) -> int:
    from ivr.prompts import PromptError, build_prompts

    recordings = {}
    for item in args.recording:
        key, sep, file = item.partition("=")
        if not sep or not key or not file:
            return _fail(f"--recording expects KEY=FILE, got {item!r}", exitcodes.USAGE)
        recordings[key] = Path(file)
    config = load_config(ivr_config_path(args))
    try:
        done = build_prompts(config, args.out, recordings, keep_existing=args.keep_existing)
    except PromptError as exc:
        return _fail(str(exc))
    print(f"{len(done)} prompts in {args.out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ivr.service import IvrService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config_path = ivr_config_path(args)
    service = IvrService(load_config(config_path), secrets=_secrets(args), asterisk_etc=args.asterisk_etc)

    from nms.service import run_until_signalled

    http = _metrics_server(args, service)
    if http is not None:
        try:
            http.start()
        except OSError as exc:
            return _fail(f"cannot serve metrics on {args.metrics}: {exc.strerror or exc}", exitcodes.UNAVAILABLE)
    try:
        run_until_signalled(service)
    finally:
        if http is not None:
            http.stop()
    return 0


def _metrics_server(args: argparse.Namespace, service):
    """The controller's own HTTP endpoint when it runs alone (``nms ivr``); ``nms run`` serves it otherwise.

    Besides the IVR's metrics it exports the process's CPU and memory (``process_*``), so the
    controller's own cost can be watched, and benchmarked, from outside.
    """
    if not args.metrics:
        return None
    from prometheus_client import ProcessCollector

    from ivr.render import config_id
    from nms.http import ServiceHttpServer
    from nms.secrets import SecretError

    process = ProcessCollector(registry=None)

    def reload() -> tuple[bool, str]:
        try:
            config = service.reload(ivr_config_path(args))
        except ConfigError as exc:
            return False, f"configuration refused, the running one stays:\n{exc}"
        except Exception as exc:  # AMI errors, timeouts: reported; the service keeps running
            return False, f"reload failed: {exc}"
        return True, f"IVR configuration {config_id(config)} is live"

    def token() -> str | None:  # POST /-/reload needs it, as for `nms run` (see nms.http)
        try:
            return service.secrets.get("http-reload-token")
        except SecretError:
            return None

    return ServiceHttpServer(args.metrics, lambda: [*service.collectors(), process], reload,
                             ready=service.controller.ready.is_set, reload_token=token)
