"""The whole service for the admin-page tests: a real Asterisk 22, a real SNMP agent, the SNMP collector,
the IVR controller and the admin page, run by the real ServiceRunner in a background thread.

The Asterisk instance gets its own sounds directory (``/nms/<name>/data/sounds/ko/nms``), so what the
page deploys there is what this Asterisk plays, and other test Asterisks sharing the root filesystem
never touch it. Everything listens on 127.0.0.1, on ports picked free at run time.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from collectors.snmp.service import SnmpCollector
from ivr.ami_protocol import AmiConnection
from ivr.amipolicy import AmiUser
from ivr.config import IvrConfig, load_config
from ivr.layout import Directories
from ivr.prompts import build_prompts
from ivr.render import RenderOptions, render
from ivr.service import IvrService
from lab import asterisk as lab
from nms.admin.service import AdminService
from nms.admin.settings import AdminSettings
from nms.admin.users import Role
from nms.app.district import load_district
from nms.secrets import SecretResolver
from nms.service import ServiceRunner
from tests.district_builder import device, write_district
from tests.ivr_fixtures import LAB_USER, STAFF_SIM, LabClient, config_data, instance_name, write_config
from tests.snmp_agents import Snmpd, free_udp_port, start_snmpd

PASSWORDS = {"admin": "admin-pass-1234", "operator": "operator-pass-1234", "viewer": "viewer-pass-1234"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def version_of_page(html: str) -> str:
    m = VERSION_RE.search(html)
    assert m, "no version field in the page"
    return m.group(1)


def _private_data_dir(inst: lab.AsteriskInstance) -> Directories:
    """Asterisk's data directory for this instance: the shared files by symlink, its own ko/nms sounds."""
    shared = inst.root / "usr/share/asterisk"
    data = inst.host_path(f"{inst.base}/data")
    (data / "sounds" / "ko" / "nms").mkdir(parents=True, exist_ok=True)
    for entry in shared.iterdir():
        if entry.name != "sounds" and not (data / entry.name).exists():
            (data / entry.name).symlink_to(f"/usr/share/asterisk/{entry.name}")
    for entry in (shared / "sounds").iterdir():
        link = data / "sounds" / entry.name
        if entry.name != "ko" and not link.exists() and not link.is_symlink():
            link.symlink_to(f"/usr/share/asterisk/sounds/{entry.name}")
    d = inst.directories()
    return Directories(etc=d.etc, varlib=d.varlib, spool=d.spool, run=d.run, log=d.log, cache=d.cache,
                       data=f"{inst.base}/data")


@dataclass
class AdminStack:
    base: Path
    config_path: Path
    ivr_path: Path
    secrets_dir: Path
    instance: lab.AsteriskInstance
    directories: Directories
    lab_secret: str
    agent: Snmpd
    runner: ServiceRunner
    admin: AdminService
    ivr: IvrService
    snmp: SnmpCollector
    thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.admin.url

    @property
    def sounds_root(self) -> Path:
        return self.instance.host_path(f"{self.directories.data}/sounds")

    def prompt_path(self, key: str) -> Path:
        return self.sounds_root / "ko" / "nms" / f"{key}.wav"

    def config(self) -> IvrConfig:
        return load_config(self.ivr_path)

    def ami(self) -> LabClient:
        ami = self.config().ami
        return LabClient(AmiConnection(str(ami.host), ami.port, LAB_USER, self.lab_secret, 10.0))

    def render_options(self, config: IvrConfig) -> RenderOptions:
        get = SecretResolver(self.secrets_dir).get
        lab_user = AmiUser(LAB_USER, self.lab_secret, ("all",), ("all",))
        return RenderOptions(ami_secret=get(config.ami.secret), directories=self.directories,
                             dialplan_includes=(lab.LAB_DIALPLAN_INCLUDE,), verbose_log=True,
                             extra_ami_users=(lab_user,))

    def login(self, role: str) -> Any:
        """A Flask test client of the running app, logged in as the user with that role's name."""
        client = self.admin.app.test_client()
        page = client.get("/login")
        resp = client.post("/login", data={"username": role, "password": PASSWORDS[role],
                                           "csrf_token": csrf_of(page.text)})
        assert resp.status_code == 302, resp.text
        return client

    def stop(self) -> None:
        self.runner.request_stop()
        self.thread.join(timeout=30)
        self.admin.workspace.close()
        self.instance.remove()
        self.agent.stop()


def start_stack(base: Path, name: str | None = None, inventory: Path | None = None) -> AdminStack:
    """Start everything; ``inventory`` replaces the small test inventory (e.g. the district's 493 devices)."""
    root = lab.rootfs_path()
    if not lab.rootfs_ready(root):
        try:
            root = lab.build_rootfs(quiet=True)
        except lab.AsteriskLabError as exc:
            pytest.fail(f"no Asterisk root filesystem ({exc}); run `make setup` "
                        "(python -m lab.asterisk build-rootfs)")
    name = name or instance_name("adm")
    base.mkdir(parents=True, exist_ok=True)
    agent = start_snmpd(base / "snmpd", "127.0.0.71", "core-1")
    dead_port = free_udp_port("127.0.0.72")
    config_path = write_district(base, [
        device("core-1", "backbone", agent.host, agent.port),
        device("ap-park-1", "ap", "127.0.0.72", dead_port, site="park-001"),
        device("ap-plan-1", "ap", "127.0.0.73", 1161, site="park-001", status="planned", installed=2022,
               tags=["plan-2022"]),
        device("ap-plan-2", "ap", "127.0.0.74", 1161, site="market-001", status="planned", installed=2022,
               tags=["plan-2022"]),
    ], interval=30, timeout=0.5, retries=0)
    if inventory is not None:
        (base / "inventory.yaml").write_bytes(Path(inventory).read_bytes())
    secrets_dir = base / "secrets"
    inst = lab.AsteriskInstance(name=name, root=root)
    inst.stop()
    inst.make_dirs()
    directories = _private_data_dir(inst)
    data = config_data()
    data["recordings"] = {"directory": f"{inst.base}/recordings",
                          "host_directory": str(inst.host_path(f"{inst.base}/recordings")), "retention_days": 90}
    ivr_path = write_config(base, data)
    config = load_config(ivr_path)
    lab.ensure_secrets(secrets_dir, config)
    (secrets_dir / "district-v2c").write_text(agent.community + "\n")
    lab_secret = secrets.token_urlsafe(16)
    stack_holder: dict[str, Any] = {}

    def options(cfg: IvrConfig) -> RenderOptions:
        return stack_holder["stack"].render_options(cfg)

    get = SecretResolver(secrets_dir).get
    render(config, inst.etc_dir, RenderOptions(
        ami_secret=get(config.ami.secret), directories=directories, dialplan_includes=(lab.LAB_DIALPLAN_INCLUDE,),
        verbose_log=True, extra_ami_users=(AmiUser(LAB_USER, lab_secret, ("all",), ("all",)),)))
    (inst.etc_dir / lab.LAB_DIALPLAN_INCLUDE).write_text(STAFF_SIM)
    build_prompts(config, inst.host_path(f"{directories.data}/sounds/ko/nms"), progress=False)
    lab.prepare_recordings_dir(root, inst.host_path(config.recordings.directory))
    inst.start()

    district = load_district(config_path)
    resolver = SecretResolver(secrets_dir)
    snmp = SnmpCollector(district, resolver)
    ivr = IvrService(config, secrets=resolver, asterisk_etc=inst.etc_dir, render_options=options)
    settings = AdminSettings(listen="127.0.0.1:0", state_dir=base / "admin", ivr_config=ivr_path,
                             sounds_dir=inst.host_path(f"{directories.data}/sounds"), threads=8,
                             dial_targets=["Local/2399@nms-lab-staff/n"])  # the admin allows one more extension
    admin = AdminService(district, settings=settings)
    runner = ServiceRunner(config_path, district, [snmp, ivr, admin])
    admin.attach(runner)
    for role in Role:
        admin.workspace.users.create(role.label, role, PASSWORDS[role.label])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(runner.run(handle_signals=False))
        except BaseException as exc:  # reported by the fixture
            errors.append(exc)

    thread = threading.Thread(target=run, name="nms-runner", daemon=True)
    stack = AdminStack(base, config_path, ivr_path, secrets_dir, inst, directories, lab_secret, agent, runner,
                       admin, ivr, snmp, thread, errors)
    stack_holder["stack"] = stack
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (runner._started and ivr.stats.connected):
        if errors:
            break
        time.sleep(0.05)
    if not (runner._started and ivr.stats.connected):
        stack.stop()
        raise AssertionError(f"the service did not start with the lab Asterisk: {errors or 'timeout'}")
    return stack


@pytest.fixture(scope="module")
def admin_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminStack]:
    stack = start_stack(tmp_path_factory.mktemp("admin"))
    try:
        yield stack
    finally:
        stack.stop()
        assert not stack.errors, f"the service failed: {stack.errors}"


@dataclass
class LightAdmin:
    """The admin page without running services (files only): for security and storage tests."""

    base: Path
    service: AdminService

    @property
    def app(self) -> Any:
        return self.service.app

    @property
    def ws(self) -> Any:
        return self.service.workspace

    def login(self, role: str, client: Any = None) -> Any:
        client = client or self.app.test_client()
        page = client.get("/login")
        resp = client.post("/login", data={"username": role, "password": PASSWORDS[role],
                                           "csrf_token": csrf_of(page.text)})
        assert resp.status_code == 302, resp.text
        return client


def make_light_admin(base: Path, **settings: Any) -> LightAdmin:
    """Config files in ``base`` (a small district and the test ivr.yaml), users of every role."""
    config_path = write_district(base, [device("core-1", "backbone", "127.0.0.71", 16100),
                                         device("ap-plan-1", "ap", "127.0.0.73", 1161, site="park-001",
                                                status="planned", installed=2022, tags=["plan-2022"])])
    write_config(base, config_data())
    district = load_district(config_path)
    admin = AdminService(district, settings=AdminSettings(
        listen="127.0.0.1:0", state_dir=base / "admin", ivr_config=base / "ivr.yaml", sounds_dir=base / "sounds",
        **settings))
    for role in Role:
        admin.workspace.users.create(role.label, role, PASSWORDS[role.label])
    return LightAdmin(base, admin)


@pytest.fixture
def light_admin(tmp_path: Path) -> Iterator[LightAdmin]:
    la = make_light_admin(tmp_path / "light")
    try:
        yield la
    finally:
        la.service.close()
