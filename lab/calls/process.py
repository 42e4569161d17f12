"""The lab caller as a process: started detached by the lab (:func:`start_caller`), run as ``python -m lab.calls``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ivr.config import load_config
from lab import processes
from lab.calls.account import CALLER_SECRET, CALLER_USER, ensure_caller_secret
from lab.calls.caller import Caller
from lab.calls.traffic import TrafficModel

log = logging.getLogger("lab.calls")

REPO = Path(__file__).resolve().parents[2]
PROCESS_NAME = "calls"


def start_caller(config_path: Path, run_dir: Path, secrets_dir: Path, *, rate: float = 1.0,
                 recordings: Path | None = None) -> processes.ManagedProcess:
    """Start the caller process for the lab in ``run_dir`` (its log and status go to ``run_dir/calls``).

    ``config_path`` is the ivr.yaml whose DIDs are called and whose AMI address is used (loopback only);
    ``recordings`` (a host path) is pruned of old lab recordings so a long-running lab does not fill the disk.
    """
    workdir = Path(run_dir).resolve() / "calls"
    ensure_caller_secret(secrets_dir)
    cmd = [sys.executable, "-m", "lab.calls", "--config", str(config_path), "--run-dir", str(workdir),
           "--secret-file", str(Path(secrets_dir) / CALLER_SECRET), "--rate", repr(float(rate))]
    if recordings is not None:
        cmd += ["--recordings", str(recordings)]
    log_path = workdir / "caller.log"
    proc = processes.spawn(cmd, log_path, cwd=REPO)
    return processes.ManagedProcess(name=PROCESS_NAME, pid=proc.pid, log=log_path, marker=str(workdir), popen=proc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.calls",
                                     description="Lab only: simulated callers for the IVR's Asterisk (AMI).")
    parser.add_argument("--config", type=Path, required=True, help="ivr.yaml: DIDs, hours, AMI address")
    parser.add_argument("--run-dir", type=Path, required=True, help="status.json goes here")
    parser.add_argument("--secret-file", type=Path, required=True, help="the caller's AMI secret")
    parser.add_argument("--user", default=CALLER_USER)
    parser.add_argument("--rate", type=float, default=1.0, help="multiplier of the time-of-day call rate")
    parser.add_argument("--recordings", type=Path, default=None, help="lab recordings to prune (host path)")
    parser.add_argument("--keep-recordings", type=float, default=3.0, help="hours")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config)
    secret = args.secret_file.read_text(encoding="utf-8").strip()
    args.run_dir.mkdir(parents=True, exist_ok=True)
    model = TrafficModel(config, args.rate, random.Random(args.seed))
    caller = Caller(config, secret, model, user=args.user, status_path=args.run_dir / "status.json",
                    recordings=args.recordings, keep_recordings=args.keep_recordings * 3600)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, caller.stop)
        await caller.run()

    log.info("lab caller: %s, rate x%s, AMI %s:%s", args.config, args.rate, config.ami.host, config.ami.port)
    asyncio.run(run())
    log.info("lab caller stopped: %s", caller.status())
    return 0

