"""``nms flows``: the flow collector on its own, serving /metrics."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from collectors.flows.receiver import parse_listen
from collectors.flows.settings import FlowDistrict, FlowSettings
from nms import exitcodes

log = logging.getLogger("nms.flows")


def register(subparsers: argparse._SubParsersAction, load: Callable[[Path], FlowDistrict]) -> None:
    """Add ``flows``; ``load`` reads the configuration named by ``--config`` (given by the application)."""
    p = subparsers.add_parser(
        "flows", help="run the flow collector (NetFlow v5/v9, IPFIX) and serve its /metrics",
        description="Receive NetFlow v5/v9 and IPFIX on UDP and serve the aggregates on /metrics. "
                    "The inventory (from --config) maps flow addresses to sites.")
    p.add_argument("--listen", help="UDP host:port for flows (default: flows.listen of nms.yaml, "
                                    "or 127.0.0.1:2055)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="receive processes on the port, each exporter always to the same one "
                        "(default: flows.workers of nms.yaml, or 1)")
    p.add_argument("--metrics", default="127.0.0.1:9702", help="host:port serving /metrics (default %(default)s)")
    p.add_argument("--no-inventory", action="store_true", help="do not load the inventory (no site mapping)")
    p.set_defaults(func=run, load_district=load)


def run(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    from collectors.flows.service import FlowService
    from nms.configfile import ConfigError

    district: FlowDistrict | None = None
    if not args.no_inventory:
        district = args.load_district(Path(args.config))  # ConfigError: the application's exit code CONFIG
    settings = getattr(getattr(district, "settings", None), "flows", None) or FlowSettings()
    if args.listen:
        settings = settings.model_copy(update={"listen": args.listen})
    if args.workers is not None:
        if not 1 <= args.workers <= 64:
            print("flows: --workers must be between 1 and 64")
            return 2
        settings = settings.model_copy(update={"workers": args.workers})
    service = FlowService(district, settings=settings)
    try:
        service.start_threads()
    except OSError as exc:
        print(f"nms flows: cannot listen on {settings.listen}: {exc.strerror}", file=sys.stderr)
        return exitcodes.UNAVAILABLE
    registry = CollectorRegistry(auto_describe=False)
    for collector in service.collectors():
        registry.register(collector)
    host, port = parse_listen(args.metrics)
    server, thread = start_http_server(port, addr=host, registry=registry)
    log.info("flows on udp %s, metrics on http://%s/metrics", settings.listen, args.metrics)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    if hasattr(signal, "SIGHUP") and district is not None:
        def _reload(*_: object) -> None:
            try:
                service.reload(district.reloaded())
                log.info("inventory reloaded")
            except ConfigError as exc:
                log.error("reload refused, the last good inventory stays: %s", exc)
        signal.signal(signal.SIGHUP, _reload)
    done.wait()
    service.stop_threads()
    server.shutdown()
    thread.join(timeout=2)
    return 0
