"""Fixtures and helpers for the IVR tests: a real Asterisk 22 (chroot), a lab AMI client, test configs.

Everything listens on 127.0.0.1 only, on ports picked free at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.ami_protocol import AmiConnection
from ivr.amipolicy import AmiUser
from ivr.config import DEFAULT_CONFIG, IvrConfig, load_config
from ivr.render import RenderOptions
from ivr.service import IvrService
from lab import asterisk as lab
from nms.secrets import SecretResolver

LAB_USER = "nms-lab"
#: Staff simulators: a staff member answers and stays on the line.
STAFF_SIM = """\
[nms-lab-staff]
exten => _X.,1,Answer()
 same => n,Wait(3600)

[nms-lab-caller]
exten => s,1,Wait(3600)
"""
SHORT_TEXTS = {  # short announcements keep the tests fast
    "staff-protection": "직원 보호 안내",
    "recording-notice": "녹음 안내",
    "menu": "메뉴",
    "busy": "통화 중",
}
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_counter = itertools.count(1)


def instance_name(prefix: str = "t") -> str:
    return f"{prefix}{os.getpid()}-{next(_counter)}"


@pytest.fixture(scope="session")
def asterisk_rootfs() -> Path:
    """The Asterisk root filesystem; built on first use (about 20 s), or the test fails saying how to get it."""
    if lab.rootfs_ready():
        return lab.rootfs_path()
    try:
        return lab.build_rootfs(quiet=True)
    except lab.AsteriskLabError as exc:
        pytest.fail(f"no Asterisk root filesystem ({exc}); run `make setup` "
                    "(python -m lab.asterisk build-rootfs)")


def config_data(*, real_hours: bool = False, ports: tuple[int, int] | None = None, **overrides: Any) -> dict:
    """The shipped ivr.yaml made testable: Local/ staff targets, short texts, free ports.

    Unless ``real_hours``, the business hours cover every minute of every day, so tests do not
    depend on when they run.
    """
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for dep in data["departments"]:
        ext = dep["target"].split("/", 1)[1]
        dep["target"] = f"Local/{ext}@nms-lab-staff/n"
    for key in data["announcements"]:
        data["announcements"][key] = SHORT_TEXTS.get(key, "안내 " + key.replace("-", " "))
    if not real_hours:
        data["hours"]["business"] = [{"days": ALL_DAYS, "start": "00:00", "end": "24:00"}]
        data["hours"]["lunch"] = None
        data["hours"]["holidays"] = []
    ami_port, sip_port = ports or lab.free_ports(2)
    data["ami"]["port"] = ami_port
    data["sip"]["port"] = sip_port
    data["sip"]["phones"] = []
    data["sip"]["trunk"] = None
    data["events"]["database"] = "events.sqlite3"
    for key, value in overrides.items():
        data[key] = value
    return data


def write_config(directory: Path, data: dict, name: str = "ivr.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class IvrLab:
    """A running Asterisk with a rendered test configuration, its secrets and a lab AMI account."""

    def __init__(self, config: IvrConfig, run_dir: Path, name: str, faketime: str | None = None,
                 extra_ami_users: tuple[AmiUser, ...] = ()):
        self.config = config
        self.run_dir = run_dir
        self.lab_secret = secrets.token_urlsafe(16)
        self.secrets_dir = run_dir / "secrets"
        self.extra_ami_users = (AmiUser(LAB_USER, self.lab_secret, ("all",), ("all",)), *extra_ami_users)
        recdir = f"/nms/{name}/recordings"
        self.config = config.model_copy(update={
            "recordings": config.recordings.model_copy(update={"directory": Path(recdir)})})
        self.handle = lab.start_lab_asterisk(
            self.config, run_dir, name=name, faketime=faketime, secrets_dir=self.secrets_dir,
            lab_extensions=STAFF_SIM, extra_ami_users=self.extra_ami_users,
        )
        self.config = self.config.model_copy(update={"recordings": self.config.recordings.model_copy(
            update={"host_directory": self.handle.recordings_dir})})

    @property
    def instance(self) -> lab.AsteriskInstance:
        return self.handle.instance

    def secret(self, name: str) -> str:
        return (self.secrets_dir / name).read_text().strip()

    def client(self) -> LabClient:
        ami = self.config.ami
        return LabClient(AmiConnection(str(ami.host), ami.port, LAB_USER, self.lab_secret, 10.0))

    def render_options(self, config: IvrConfig) -> RenderOptions:
        """What a reload must render for this lab: same directories, lab account and staff simulators."""
        return RenderOptions(
            ami_secret=self.secret(config.ami.secret), directories=self.instance.directories(),
            dialplan_includes=(lab.LAB_DIALPLAN_INCLUDE,), verbose_log=True, extra_ami_users=self.extra_ami_users)

    def service(self, config: IvrConfig | None = None) -> IvrService:
        """The IVR service under test, pointed at this lab (not started)."""
        return IvrService(config or self.config, secrets=SecretResolver(self.secrets_dir),
                          asterisk_etc=self.instance.etc_dir, render_options=self.render_options)

    def played(self, sound: str) -> list[float]:
        """Times (Unix, Asterisk clock) when ``sound`` started playing, from the verbose log."""
        import datetime as dt
        import zoneinfo

        tz = zoneinfo.ZoneInfo(self.config.hours.timezone)
        path = self.instance.host_path(f"{self.instance.base}/log/verbose.log")
        times = []
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                if f"Playing '{sound}." in line and line.startswith("["):
                    stamp = line[1:line.index("]")]
                    times.append(dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=tz).timestamp())
        return times

    def close(self) -> None:
        self.instance.remove()


class LabClient:
    """The test's own AMI view (all events), independent of the controller under test."""

    def __init__(self, conn: AmiConnection):
        self.conn = conn
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        conn.on_event("*", self._record)

    def _record(self, msg: Any) -> None:
        self.events.append(msg)
        self._changed.set()

    async def __aenter__(self) -> LabClient:
        await self.conn.connect(5)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.conn.close()

    def playbacks(self, sound: str) -> list[Any]:
        """Newexten events where a channel started playing ``sound`` (e.g. ``nms/busy``)."""
        return [e for e in self.events if e.get("Event") == "Newexten"
                and e.get("Application") in ("Playback", "Background") and e.get("AppData") == sound]

    def user_events(self, name: str) -> list[Any]:
        return [e for e in self.events if e.get("Event") == "UserEvent" and e.get("UserEvent") == name]

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def call(self, did: str, caller: str = "01012345678") -> None:
        """An inbound call into from-pstn: a Local channel whose other half just listens."""
        await self.conn.ok({"Action": "Originate", "Channel": f"Local/{did}@from-pstn/n",
                            "Context": "nms-lab-caller", "Exten": "s", "Priority": "1",
                            "CallerID": f'"test" <{caller}>', "Async": "true"}, timeout=10)

    async def channels(self) -> list[Any]:
        return await self.conn.event_list({"Action": "CoreShowChannels"}, "CoreShowChannel")

    async def staff_leg(self, ext: str) -> list[str]:
        """The ``;1`` halves of Local staff targets: the channel bridged to the caller."""
        return [c.get("Channel") for c in await self.channels()
                if c.get("Channel", "").startswith(f"Local/{ext}@nms-lab-staff") and c.get("Channel").endswith(";1")]

    async def press(self, channel: str, keys: str) -> None:
        """Simulate keys pressed on ``channel`` (received by Asterisk, as from a phone)."""
        for digit in keys:
            await self.conn.ok({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Receive": "true",
                                "Duration": "80", "Async": "false"})


@pytest.fixture
def ivr_lab_factory(asterisk_rootfs: Path, tmp_path: Path) -> Iterator[Callable[..., IvrLab]]:
    """Start as many test Asterisks as a test needs; all are stopped and removed afterwards."""
    labs: list[IvrLab] = []

    def start(data: dict | None = None, *, faketime: str | None = None, name: str | None = None,
              secrets: dict[str, str] | None = None, extra_ami_users: tuple[AmiUser, ...] = ()) -> IvrLab:
        """``secrets``: {name: value} put in the lab's secrets directory (others are generated)."""
        name = name or instance_name()
        run_dir = tmp_path / name
        path = write_config(run_dir, data or config_data())
        if secrets:
            secrets_dir = run_dir / "secrets"
            secrets_dir.mkdir(mode=0o700, exist_ok=True)
            for secret_name, value in secrets.items():
                fd = os.open(secrets_dir / secret_name, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(value + "\n")
        lab_ = IvrLab(load_config(path), run_dir, name, faketime=faketime, extra_ami_users=extra_ami_users)
        labs.append(lab_)
        return lab_

    yield start
    for lab_ in labs:
        lab_.close()


def run(coro: Any, timeout: float = 120.0) -> Any:
    """Run one test scenario on a fresh event loop, with an overall timeout."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


CARRIER_TONE_HZ = 440


@pytest.fixture
def carrier(asterisk_rootfs: Path) -> Iterator[Callable[..., tuple[lab.AsteriskInstance, str]]]:
    """Start the carrier's Asterisk: a PJSIP endpoint towards the IVR, and an AMI account for the test.

    Without ``account`` the IVR is a static peer identified by its address. With ``account``
    (user name, password) the carrier behaves like a Korean carrier's SIP trunk: the IVR must register
    with digest authentication, every request from it is challenged, and calls go to its registered
    contact; the endpoint is named after the user name. Its calling channel (``carrier-caller``)
    records what it receives (``rx.wav``) and sends a 440 Hz tone. Returns (instance, AMI secret).
    """
    made: list[lab.AsteriskInstance] = []

    def start(ivr_sip_port: int, sip_port: int, ami_port: int,
              account: tuple[str, str] | None = None) -> tuple[lab.AsteriskInstance, str]:
        inst = lab.AsteriskInstance(instance_name("carrier"), asterisk_rootfs)
        inst.make_dirs()
        secret = secrets.token_urlsafe(16)
        write_carrier_config(inst, ivr_sip_port, sip_port, ami_port, secret, account)
        inst.start()
        made.append(inst)
        return inst, secret

    yield start
    for inst in made:
        inst.remove()


def write_carrier_config(inst: lab.AsteriskInstance, ivr_sip_port: int, sip_port: int, ami_port: int,
                         ami_secret: str, account: tuple[str, str] | None = None) -> None:
    """(Re)write the carrier's configuration; a restart or ``module reload`` applies it."""
    from ivr.render import asterisk_conf, modules_conf

    etc = inst.etc_dir
    (etc / "asterisk.conf").write_text(asterisk_conf(inst.directories()))
    (etc / "modules.conf").write_text(modules_conf())
    (etc / "logger.conf").write_text("[logfiles]\nmessages.log => notice,warning,error\n")
    # Not the IVR's range (20000-20999): each side's RTP ports are its own.
    (etc / "rtp.conf").write_text("[general]\nrtpstart = 30000\nrtpend = 30999\n")
    (etc / "manager.conf").write_text(
        f"[general]\nenabled = yes\nbindaddr = 127.0.0.1\nport = {ami_port}\ntimestampevents = yes\n\n"
        f"[carrier]\nsecret = {ami_secret}\nread = all\nwrite = all\n")
    media = ("disallow = all\nallow = alaw,ulaw\ndirect_media = no\ndtmf_mode = rfc4733\nrtp_symmetric = yes\n"
             "media_address = 127.0.0.1\nbind_rtp_to_media_address = yes\ntransport = transport-udp\n")
    if account is None:
        peer = (f"[ivr]\ntype = endpoint\ncontext = carrier-in\n{media}aors = ivr\n\n"
                f"[ivr]\ntype = aor\ncontact = sip:127.0.0.1:{ivr_sip_port}\n\n"
                "[ivr-identify]\ntype = identify\nendpoint = ivr\nmatch = 127.0.0.1\n")
    else:
        user, password = account
        peer = (f"[{user}]\ntype = endpoint\ncontext = carrier-in\n{media}aors = {user}\nauth = {user}-auth\n\n"
                f"[{user}-auth]\ntype = auth\nauth_type = userpass\nusername = {user}\npassword = {password}\n\n"
                f"[{user}]\ntype = aor\nmax_contacts = 1\nremove_existing = yes\n")
    (etc / "pjsip.conf").write_text(
        "[global]\ntype = global\nendpoint_identifier_order = username,auth_username,ip\n\n"
        f"[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{sip_port}\n\n{peer}")
    rec = f"{inst.base}/spool"
    (etc / "extensions.conf").write_text(
        "[carrier-in]\nexten => _X.,1,Hangup(21)\n\n"
        "[carrier-caller]\n"
        f"exten => s,1,MixMonitor({rec}/mix.wav,r({rec}/rx.wav))\n"
        f" same => n,Playtones({CARRIER_TONE_HZ})\n"
        " same => n,Wait(3600)\n")
