"""The lab's mail server: aiosmtpd on loopback, every message kept in a Maildir (``<run-dir>/mail``).

Alertmanager's e-mail notifications in the lab land here; read them with any Maildir reader
(``mutt -f run/lab/mail``) or Python's :class:`mailbox.Maildir`. Never relays anything onwards.

    python -m lab.smtpsink --listen 127.0.0.1:9725 --maildir run/lab/mail
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

DEFAULT_LISTEN = "127.0.0.1:9725"


def main(argv: list[str] | None = None) -> int:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    parser = argparse.ArgumentParser(prog="python -m lab.smtpsink", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"host:port on loopback (default {DEFAULT_LISTEN})")
    parser.add_argument("--maildir", type=Path, required=True, help="Maildir to keep the messages in")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        parser.error(f"the lab's mail server listens on loopback only, not {host!r}")
    for sub in ("tmp", "new", "cur"):  # a Maildir; mailbox.Maildir only creates them for a new directory
        (args.maildir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    controller = Controller(Mailbox(args.maildir), hostname=host, port=int(port))
    controller.start()
    print(f"SMTP sink on {args.listen}, Maildir {args.maildir}", file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
