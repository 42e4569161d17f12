"""Command-line entry points: ``nms ivr`` (run the controller), ``nms ivr render``, ``nms prompts build``.

:func:`register` adds them to the ``nms`` argparse sub-parsers; each sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ivr.config import DEFAULT_CONFIG, load_config
from nms.configfile import ConfigError
from nms.secrets import SecretError, SecretResolver

DEFAULT_METRICS = "127.0.0.1:9703"


def register(subparsers: argparse._SubParsersAction) -> None:
    ivr = subparsers.add_parser("ivr", help="run the IVR controller (AMI), or render its Asterisk config")
    ivr.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="ivr.yaml")
    ivr.add_argument("--secrets-dir", type=Path, default=None)
    ivr.add_argument("--asterisk-etc", type=Path, default=None,
                     help="Asterisk's configuration directory, for reloads")
    ivr.add_argument("--metrics", default=DEFAULT_METRICS, metavar="HOST:PORT",
                     help="serve /metrics, /-/ready and POST /-/reload here ('' for none; default %(default)s)")
    ivr.set_defaults(func=cmd_run)
    ivr_sub = ivr.add_subparsers(dest="ivr_command")
    render = ivr_sub.add_parser("render", help="write the Asterisk configuration")
    render.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    render.add_argument("--secrets-dir", type=Path, default=None)
    render.add_argument("--out", type=Path, required=True, help="output directory")
    render.set_defaults(func=cmd_render)

    prompts = subparsers.add_parser("prompts", help="announcement prompts")
    p_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = p_sub.add_parser("build", help="make 8 kHz WAV prompts (Korean TTS, or operator recordings)")
    build.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    build.add_argument("--out", type=Path, required=True, help="the sounds/ko/nms directory")
    build.add_argument("--recording", action="append", default=[], metavar="KEY=FILE",
                       help="use a recorded file for announcement KEY instead of TTS (repeatable)")
    build.add_argument("--keep-existing", action="store_true",
                       help="leave prompts that exist (uploaded recordings, admin-page edits); make only missing ones")
    build.set_defaults(func=cmd_prompts_build)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_render(args: argparse.Namespace) -> int:
    from ivr.render import render

    try:
        config = load_config(args.config)
        files = render(config, args.out, resolve_secret=SecretResolver(args.secrets_dir).get)
    except ConfigError as exc:
        return _fail(f"configuration refused:\n{exc}")
    except (SecretError, ValueError) as exc:
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
            return _fail(f"--recording expects KEY=FILE, got {item!r}")
        recordings[key] = Path(file)
    try:
        config = load_config(args.config)
        done = build_prompts(config, args.out, recordings, keep_existing=args.keep_existing)
    except ConfigError as exc:
        return _fail(f"configuration refused:\n{exc}")
    except PromptError as exc:
        return _fail(str(exc))
    print(f"{len(done)} prompts in {args.out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ivr.service import IvrService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        service = IvrService(load_config(args.config), secrets=SecretResolver(args.secrets_dir),
                             asterisk_etc=args.asterisk_etc)
    except ConfigError as exc:
        return _fail(f"configuration refused:\n{exc}")
    except SecretError as exc:
        return _fail(str(exc))

    from nms.service import run_until_signalled

    http = _metrics_server(args, service)
    if http is not None:
        try:
            http.start()
        except OSError as exc:
            return _fail(f"cannot serve metrics on {args.metrics}: {exc.strerror or exc}")
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

    process = ProcessCollector(registry=None)

    def reload() -> tuple[bool, str]:
        try:
            config = service.reload(args.config)
        except ConfigError as exc:
            return False, f"configuration refused, the running one stays:\n{exc}"
        except Exception as exc:  # AMI errors, timeouts: reported; the service keeps running
            return False, f"reload failed: {exc}"
        return True, f"IVR configuration {config_id(config)} is live"

    return ServiceHttpServer(args.metrics, lambda: [*service.collectors(), process], reload,
                             ready=service.controller.ready.is_set)
