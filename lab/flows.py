"""The lab's flow exporter: softflowd replaying generated district traffic to the collector.

The capture is generated once from the inventory's site subnets and cached in the run
directory (keyed by the subnets, so a changed inventory gets a new capture). softflowd reads a
capture once and exits, so a small shell loop replays it every ``interval`` seconds. Its only
destination is the collector on loopback; the capture's 10.x addresses are data, never sent to.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from lab import processes
from lab.errors import LabError
from lab.pcapgen import district_flows, write_pcap
from nms.app.district import District

FLOWS_PER_REPLAY = 5000


def capture_path(district: District, run_dir: Path, flows: int = FLOWS_PER_REPLAY) -> Path:
    """The cached capture for this inventory, generated on first use."""
    subnets = sorted({n for s in district.inventory.sites for n in s.subnets}, key=str)
    key = hashlib.sha256((",".join(map(str, subnets)) + f"/{flows}").encode()).hexdigest()[:12]
    path = Path(run_dir) / "flows" / f"district-{key}.pcap"
    if not path.exists():
        write_pcap(path, district_flows(subnets, flows, seed=2026, ipv6_share=0.05))
    return path


def start_flow_replay(district: District, run_dir: Path, target: str, version: int = 9,
                      interval: float = 15.0) -> processes.ManagedProcess:
    """Start softflowd replaying the capture to ``target`` (host:port on loopback), forever."""
    softflowd = shutil.which("softflowd")
    if softflowd is None:
        raise LabError("flows", "softflowd 가 없습니다: Debian 패키지 'softflowd'를 설치하세요 (`make setup`)")
    host = target.rpartition(":")[0].strip("[]")
    if not (host.startswith("127.") or host in ("::1", "localhost")):
        raise LabError("flows", f"흐름 재생은 루프백으로만 보냅니다: {target}")
    run_dir = Path(run_dir).resolve()
    pcap = capture_path(district, run_dir)
    workdir = run_dir / "flows"
    script = (f'while :; do "{softflowd}" -r "{pcap}" -n "{target}" -v {int(version)} -6 -c none -d '
              f'-p "{workdir}/softflowd.pid"; sleep {float(interval)}; done')
    proc = processes.spawn(["/bin/sh", "-c", script], workdir / "softflowd.log")
    return processes.ManagedProcess(name="softflowd", pid=proc.pid, log=workdir / "softflowd.log",
                                    marker=str(pcap), popen=proc)
