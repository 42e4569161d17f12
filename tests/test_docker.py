"""The container deployment (docker/) agrees with the service's ports, paths and secrets.

No Docker engine runs here, so the files are read as Docker would: the compose file's mounts are
mapped back into the repository, and each configuration that a container reads is loaded with
the service's own validators (or promtool's view of the Prometheus config).
"""

from __future__ import annotations

import re
import shlex
import time
import urllib.request
from pathlib import Path, PurePosixPath

import pytest
import yaml

from dashboards.build import render_all
from ivr.config import IvrConfig, load_config
from ivr.layout import Directories
from lab.prometheus import scrape_target
from nms.app.district import District, load_district
from nms.http import ServiceHttpServer

REPO = Path(__file__).resolve().parent.parent
DOCKER = REPO / "docker"
COMPOSE = yaml.safe_load((DOCKER / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
LONG_RUNNING = ("nms", "asterisk", "prometheus", "alertmanager", "grafana")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(path: Path) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def mounts(service: str) -> dict[str, str]:
    """Container path -> source (a repository path for bind mounts, ``volume:NAME`` for volumes)."""
    out = {}
    for spec in SERVICES[service].get("volumes", []):
        source, target = spec.split(":")[:2]
        if source.startswith("."):
            out[target] = str((DOCKER / source).resolve())
        else:
            assert source in COMPOSE["volumes"], f"{service}: volume {source} is not declared"
            out[target] = f"volume:{source}"
    return out


def host_path(service: str, container_path: str) -> Path:
    """The repository file a container sees at ``container_path`` (through a bind mount)."""
    path = PurePosixPath(container_path)
    for target, source in sorted(mounts(service).items(), key=lambda kv: -len(kv[0])):
        if path == PurePosixPath(target) or PurePosixPath(target) in path.parents:
            assert not source.startswith("volume:"), f"{container_path} is in a volume, not in the repository"
            return Path(source) / path.relative_to(target)
    raise AssertionError(f"{service}: nothing is mounted at {container_path}")


def mount_of(service: str, container_path: Path | str) -> str:
    """The source of the mount holding ``container_path`` (the deepest one)."""
    path = PurePosixPath(str(container_path))
    for target, source in sorted(mounts(service).items(), key=lambda kv: -len(kv[0])):
        if path == PurePosixPath(target) or PurePosixPath(target) in path.parents:
            return source
    raise AssertionError(f"{service}: nothing is mounted at {container_path}")


def command(service: str) -> list[str]:
    cmd = SERVICES[service].get("command", [])
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


def flag(service: str, name: str) -> str:
    for arg in command(service):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{service}: no --{name}")


@pytest.fixture(scope="module")
def district() -> District:
    args = command("nms")
    config = args[args.index("--config") + 1]
    return load_district(host_path("nms", config))


@pytest.fixture(scope="module")
def ivr(district: District) -> IvrConfig:
    ivr_settings = district.settings.ivr
    assert ivr_settings.enabled
    return load_config(district.config_path.parent / ivr_settings.config)


# -- the service image ------------------------------------------------------------------------------
def test_service_image_is_slim_non_root_with_a_healthcheck(district: District) -> None:
    stage = final_stage(DOCKER / "Dockerfile")
    assert "slim" in stage[0][1]
    users = [args for word, args in stage if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the service must not run as root"
    [health] = [args for word, args in stage if word == "HEALTHCHECK"]
    url = re.search(r"http://([\d.]+:\d+)(/[-\w/]+)", health).groups()
    assert url[0] == scrape_target(district.settings.http.listen)
    assert "--interval" in health and "--timeout" in health


def test_healthcheck_path_is_served(district: District) -> None:
    """The HEALTHCHECK's path answers 200 on the service's real HTTP server once it is ready."""
    stage = final_stage(DOCKER / "Dockerfile")
    [health] = [args for word, args in stage if word == "HEALTHCHECK"]
    path = re.search(r"http://[\d.]+:\d+(/[-\w/]+)", health).group(1)
    server = ServiceHttpServer("127.0.0.1:0", lambda: [], lambda: (True, "ok"), ready=lambda: True)
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as r:
            assert r.status == 200
    finally:
        server.stop()


def test_service_image_exposes_and_runs_the_configured_service(district: District) -> None:
    stage = final_stage(DOCKER / "Dockerfile")
    exposed = {p for word, args in stage if word == "EXPOSE" for p in args.split()}
    http_port = district.settings.http.listen.rpartition(":")[2]
    flows_port = district.settings.flows.listen.rpartition(":")[2]
    assert {f"{http_port}/tcp", f"{flows_port}/udp"} <= exposed
    env = " ".join(args for word, args in stage if word == "ENV")
    assert "NMS_SECRETS_DIR=/run/secrets" in env, "compose mounts secrets at /run/secrets/<name>"
    entry = " ".join(args for word, args in stage if word in ("ENTRYPOINT", "CMD"))
    assert '"nms"' in entry and "/etc/nms/nms.yaml" in entry


def test_service_image_copies_what_exists() -> None:
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for word, args in instructions(DOCKER / "Dockerfile"):
        if word == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert (REPO / source).exists(), source
                assert f"!{source.rstrip('/')}" in ignore, f"{source} is excluded from the build context"


def test_asterisk_image_is_non_root_on_the_ivr_clock(ivr: IvrConfig) -> None:
    steps = instructions(DOCKER / "asterisk" / "Dockerfile")
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] == "asterisk"
    assert any(word == "HEALTHCHECK" for word, _ in steps)
    text = (DOCKER / "asterisk" / "Dockerfile").read_text(encoding="utf-8")
    assert f"zoneinfo/{ivr.hours.timezone}" in text and f"TZ={ivr.hours.timezone}" in text
    # Same uid as the service image: both write the shared configuration and recordings volumes.
    uid = re.search(r"--uid (\d+)", (DOCKER / "Dockerfile").read_text(encoding="utf-8")).group(1)
    assert f"--uid {uid}" in text


# -- compose: services, network, health ------------------------------------------------------------
def test_compose_has_the_services() -> None:
    assert {"nms", "asterisk", "prometheus", "grafana", "ivr-setup"} <= set(SERVICES)
    for name in LONG_RUNNING:
        assert SERVICES[name].get("network_mode") == "host", name
        assert SERVICES[name].get("restart") == "unless-stopped", name
        assert "healthcheck" in SERVICES[name], f"{name} has no healthcheck"
        image = SERVICES[name]["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image ({image})"
    assert SERVICES["ivr-setup"]["network_mode"] == "none"
    assert SERVICES["asterisk"]["depends_on"]["ivr-setup"]["condition"] == "service_completed_successfully"


def test_compose_healthcheck_matches_the_image(district: District) -> None:
    test = " ".join(SERVICES["nms"]["healthcheck"]["test"])
    assert f"http://{scrape_target(district.settings.http.listen)}/-/ready" in test


def test_the_service_reads_the_shipped_configuration(district: District, ivr: IvrConfig) -> None:
    assert mount_of("nms", "/etc/nms") == str(DOCKER / "config")
    assert district.config_path.parent == DOCKER / "config"
    assert district.settings.flows.enabled and district.settings.flows.listen.startswith("0.0.0.0:")
    assert str(ivr.ami.host).startswith("127."), "the AMI never leaves the host"
    # ivr-setup renders from the same files.
    assert mount_of("ivr-setup", "/etc/nms") == str(DOCKER / "config")
    assert "--config /etc/nms/nms.yaml" in " ".join(command("ivr-setup"))


# -- compose: volumes --------------------------------------------------------------------------------
def test_volumes_for_recordings_database_and_asterisk_config(district: District, ivr: IvrConfig) -> None:
    recordings = ivr.recordings.directory
    assert mount_of("nms", recordings) == mount_of("asterisk", recordings) == "volume:recordings"
    assert mount_of("nms", ivr.events.database) == "volume:nms-data"
    etc = district.settings.ivr.asterisk_etc
    assert str(etc) == Directories().etc
    assert mount_of("nms", etc) == mount_of("asterisk", etc) == mount_of("ivr-setup", etc) == "volume:asterisk-etc"
    setup = " ".join(command("ivr-setup"))
    assert f"--out {etc}" in setup
    sounds = re.search(r"prompts build.* --out (\S+)", setup).group(1)
    assert mount_of("ivr-setup", sounds) == mount_of("asterisk", sounds) == "volume:asterisk-sounds"
    assert mount_of("asterisk", "/var/lib/asterisk") == "volume:asterisk-lib"


# -- compose: secrets ---------------------------------------------------------------------------------
def _needed_secrets(district: District, ivr: IvrConfig) -> set[str]:
    names: set[str] = set()
    for name, cred in district.snmp.credentials.items():
        names |= {name} if str(cred.version) == "2c" else {f"{name}-auth", f"{name}-priv"}
    names |= {ivr.ami.secret, ivr.events.caller_key_secret, *(p.secret for p in ivr.sip.phones)}
    return names


def test_secrets_come_from_files(district: District, ivr: IvrConfig) -> None:
    declared = COMPOSE["secrets"]
    for name, spec in declared.items():
        assert set(spec) == {"file"}, f"secret {name} must be a file"
        path = (DOCKER / spec["file"]).resolve()
        assert path.parent == DOCKER / "secrets" and path.name == name
    assert "*" in (DOCKER / "secrets" / ".gitignore").read_text().splitlines(), "secret files are never committed"
    needed = _needed_secrets(district, ivr)
    assert needed <= set(SERVICES["nms"]["secrets"]), needed - set(SERVICES["nms"]["secrets"])
    setup = {ivr.ami.secret, *(p.secret for p in ivr.sip.phones)}
    assert setup <= set(SERVICES["ivr-setup"]["secrets"])
    for service in SERVICES.values():
        assert set(service.get("secrets", [])) <= set(declared)
        for key, value in (service.get("environment") or {}).items():
            assert not key.startswith("NMS_SECRET_"), key
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY", key):
                assert key.endswith("__FILE") and str(value).startswith("/run/secrets/"), key
    grafana_file = SERVICES["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"]
    assert PurePosixPath(grafana_file).name in SERVICES["grafana"]["secrets"]
    readme = (DOCKER / "secrets" / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme or name in readme for name in declared)


# -- compose: Prometheus --------------------------------------------------------------------------------
def test_prometheus_loads_the_shipped_config_and_rules(district: District) -> None:
    config_path = flag("prometheus", "config.file")
    config = host_path("prometheus", config_path)
    assert config == REPO / "configs" / "prometheus" / "prometheus.yml"
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    for rule_file in doc["rule_files"]:
        inside = PurePosixPath(config_path).parent / rule_file
        shipped = host_path("prometheus", str(inside))
        assert shipped.parent == REPO / "configs" / "prometheus" and shipped.is_file(), shipped
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    targets = [t for sc in jobs["nms"]["static_configs"] for t in sc["targets"]]
    assert targets == [scrape_target(district.settings.http.listen)]
    assert jobs["nms"].get("metrics_path", "/metrics") == "/metrics"
    listen = flag("prometheus", "web.listen-address")
    assert [t for sc in jobs["prometheus"]["static_configs"] for t in sc["targets"]] == [listen]
    assert mount_of("prometheus", flag("prometheus", "storage.tsdb.path")) == "volume:prometheus-data"


# -- compose: Alertmanager ------------------------------------------------------------------------------
def test_alertmanager_gets_prometheus_alerts_and_relays_to_the_service(district: District) -> None:
    config_path = flag("alertmanager", "config.file")
    config = host_path("alertmanager", config_path)
    assert config == REPO / "configs" / "alertmanager" / "alertmanager.yml"
    listen = flag("alertmanager", "web.listen-address")
    prometheus = yaml.safe_load((REPO / "configs" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [t for am in prometheus["alerting"]["alertmanagers"] for sc in am["static_configs"]
               for t in sc["targets"]]
    assert targets == [listen]
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    hooks = [h for r in doc["receivers"] for h in r.get("webhook_configs", [])]
    relay = district.settings.alerting
    assert relay.enabled and hooks
    for hook in hooks:
        assert hook["url"] == f"http://{scrape_target(relay.listen)}/api/alerts/relay"
        token = PurePosixPath(hook["http_config"]["authorization"]["credentials_file"])
        assert token.parent == PurePosixPath("/run/secrets") and token.name == relay.token_secret
        assert token.name in SERVICES["alertmanager"]["secrets"] and token.name in SERVICES["nms"]["secrets"]
    assert mount_of("alertmanager", flag("alertmanager", "storage.path")) == "volume:alertmanager-data"
    assert mount_of("nms", str(relay.log.parent)) == "volume:nms-data"


# -- compose: Grafana -------------------------------------------------------------------------------------
def test_grafana_is_provisioned_with_the_dashboards_and_the_datasource() -> None:
    provisioning = host_path("grafana", "/etc/grafana/provisioning")
    assert provisioning == REPO / "dashboards" / "provisioning"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "nms.yaml").read_text())["providers"]
    dashboards_dir = host_path("grafana", provider["options"]["path"])
    assert dashboards_dir == REPO / "dashboards" / "json"
    built = {path.name for path in dashboards_dir.glob("*.json")}
    assert built == set(render_all()), "the provisioned folder holds exactly the dashboards that dashboards.build makes"
    home = host_path("grafana", SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home.is_file()
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert source["url"] == f"http://{flag('prometheus', 'web.listen-address')}"
    prom = yaml.safe_load((REPO / "configs" / "prometheus" / "prometheus.yml").read_text())
    assert source["jsonData"]["timeInterval"] == prom["global"]["scrape_interval"]
    assert mount_of("grafana", "/var/lib/grafana") == "volume:grafana-data"
    for target in ("/etc/grafana/provisioning", provider["options"]["path"]):
        spec = next(v for v in SERVICES["grafana"]["volumes"] if v.split(":")[1] == target)
        assert spec.endswith(":ro"), f"{target} should be read-only"


def test_readme_covers_real_network_phone_lines_and_city_scale() -> None:
    readme = (DOCKER / "README.md").read_text(encoding="utf-8")
    for needle in ("Running against the real network", "Real phone lines", "--shard", "federat",
                   "remote_write", "Thanos", "Mimir", "VictoriaMetrics", "docker compose up"):
        assert needle in readme, needle


def test_container_commands_parse_with_the_real_cli() -> None:
    from nms.cli import build_parser

    parser = build_parser()
    nms_args = parser.parse_args(command("nms"))
    assert nms_args.command == "run" and nms_args.config == "/etc/nms/nms.yaml"
    steps = [shlex.split(step) for step in " ".join(command("ivr-setup")).split("&&")]
    assert [s[0] for s in steps] == ["nms", "nms"]
    render, prompts = (parser.parse_args(s[1:]) for s in steps)
    assert render.func.__name__ == "cmd_render" and str(render.config) == "/etc/nms/nms.yaml"
    assert prompts.func.__name__ == "cmd_prompts_build" and str(prompts.config) == "/etc/nms/nms.yaml"
    # Both read the ivr.yaml that the container's nms.yaml names.
    for args in (render, prompts):
        assert args.ivr_config is None or "ivr_config" not in vars(args)
        assert args.ivr_config_of(host_path("ivr-setup", args.config)) == host_path("ivr-setup", "/etc/nms/ivr.yaml")


def test_ivr_setup_renders_the_shipped_ivr_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  ivr: IvrConfig) -> None:
    """ivr-setup's first step, run for real on the shipped config (secrets from the environment here)."""
    from nms.cli import main
    from nms.secrets import env_name

    for name in (ivr.ami.secret, *(p.secret for p in ivr.sip.phones)):
        monkeypatch.setenv(env_name(name), f"test-{name}")
    step = shlex.split(" ".join(command("ivr-setup")).split("&&")[0])
    out = tmp_path / "etc-asterisk"
    args = [str(host_path("ivr-setup", a)) if a.startswith("/etc/nms/") else a for a in step[1:]]
    args[args.index("--out") + 1] = str(out)
    assert main(args) == 0
    manager = (out / "manager.conf").read_text()
    assert f"bindaddr = {ivr.ami.host}" in manager and f"port = {ivr.ami.port}" in manager
    assert f"bind = {ivr.sip.bind}:{ivr.sip.port}" in (out / "pjsip.conf").read_text()


# -- operations: the admin page's audio reaches Asterisk, prompts survive, TLS in front -------------
NGINX_SITE = REPO / "configs" / "nginx" / "nms-admin.conf"


def test_admin_page_writes_prompts_where_asterisk_plays_them(district: District, ivr: IvrConfig) -> None:
    """The page's announcement edits land in the volume Asterisk reads, not in the service's own layer."""
    from nms.admin.workspace import admin_settings

    admin = admin_settings(district)
    prompts = admin.sounds_dir / ivr.language / "nms"
    assert mount_of("nms", prompts) == mount_of("asterisk", prompts) == "volume:asterisk-sounds"
    assert mount_of("ivr-setup", prompts) == "volume:asterisk-sounds"
    # Its state (users, sessions, audit, audio archive) is kept in the service's data volume.
    assert mount_of("nms", admin.state_dir) == "volume:nms-data"


def test_ivr_setup_never_overwrites_an_uploaded_recording(tmp_path: Path, ivr: IvrConfig) -> None:
    """ivr-setup runs on every `up`: with --keep-existing it makes only the prompts that are missing."""
    from nms.cli import build_parser

    step = shlex.split(" ".join(command("ivr-setup")).split("&&")[1])
    args = build_parser().parse_args(step[1:])
    assert args.keep_existing
    from ivr.prompts import build_prompts

    keys = sorted(ivr.announcements)
    recorded = b"RIFF-uploaded-by-the-district"
    for key in keys[1:]:
        (tmp_path / f"{key}.wav").write_bytes(recorded)
    done = build_prompts(ivr, tmp_path, keep_existing=True, progress=False)
    assert list(done) == [keys[0]]  # only the missing one was synthesised
    assert (tmp_path / f"{keys[0]}.wav").read_bytes()[:4] == b"RIFF"
    assert all((tmp_path / f"{key}.wav").read_bytes() == recorded for key in keys[1:])


def test_asterisk_base_image_and_packages_are_pinned_to_one_date() -> None:
    text = (DOCKER / "asterisk" / "Dockerfile").read_text(encoding="utf-8")
    date = re.search(r"^ARG SNAPSHOT=(\d{8})$", text, re.M).group(1)
    [base] = [args for word, args in instructions(DOCKER / "asterisk" / "Dockerfile") if word == "FROM"]
    assert base == "debian:sid-${SNAPSHOT}-slim", "the base image is Debian's dated sid build"
    runs = " ".join(args for word, args in instructions(DOCKER / "asterisk" / "Dockerfile") if word == "RUN")
    apt = re.findall(r"apt-get (?:update|install)[^&]*", runs)
    assert len(apt) == 2 and all('--snapshot "${SNAPSHOT}T000000Z"' in a for a in apt), "packages from the same day"
    assert "debian:sid-slim" not in base
    assert 20240101 <= int(date) <= int(time.strftime("%Y%m%d"))


def test_compose_file_parses_like_docker_compose_config() -> None:
    assert compose_problems(COMPOSE) == []
    # The check can fail: each broken variant is caught.
    import copy

    broken = copy.deepcopy(COMPOSE)
    broken["services"]["nms"]["volumes"].append("no-such-volume:/x")
    broken["services"]["asterisk"]["depends_on"]["ghost"] = {"condition": "service_started"}
    broken["services"]["nms"]["secrets"].append("undeclared")
    broken["services"]["grafana"]["ports"] = ["3000:3000"]
    broken["services"]["prometheus"]["bogus_key"] = 1
    problems = compose_problems(broken)
    for needle in ("no-such-volume", "ghost", "undeclared", "ports", "bogus_key"):
        assert any(needle in p for p in problems), (needle, problems)


COMPOSE_SERVICE_KEYS = {"image", "build", "command", "entrypoint", "environment", "volumes", "secrets", "ports",
                        "network_mode", "restart", "depends_on", "healthcheck", "user", "cap_add", "cap_drop",
                        "read_only", "tmpfs", "labels", "logging", "profiles", "working_dir", "env_file"}


def compose_problems(doc: dict) -> list[str]:
    """What `docker compose config` would refuse (or silently ignore) in this file's subset of the spec."""
    problems = []
    known_top = {"name", "services", "volumes", "secrets", "networks", "configs"}
    problems += [f"unknown top-level key {k}" for k in doc if k not in known_top and not k.startswith("x-")]
    volumes, secrets, services = set(doc.get("volumes") or {}), set(doc.get("secrets") or {}), doc["services"]
    for name, svc in services.items():
        problems += [f"{name}: unknown key {k}" for k in svc if k not in COMPOSE_SERVICE_KEYS]
        if "image" not in svc and "build" not in svc:
            problems.append(f"{name}: neither image nor build")
        for spec in svc.get("volumes", []):
            source = spec.split(":")[0]
            if not source.startswith((".", "/")) and source not in volumes:
                problems.append(f"{name}: volume {source} is not declared")
        problems += [f"{name}: secret {s} is not declared" for s in svc.get("secrets", []) if s not in secrets]
        deps = svc.get("depends_on") or {}
        problems += [f"{name}: depends on unknown service {d}" for d in deps if d not in services]
        if svc.get("network_mode") in ("host", "none") and svc.get("ports"):
            problems.append(f"{name}: ports are ignored with network_mode {svc['network_mode']}")
    return problems


def test_admin_page_behind_tls_as_the_readme_says(district: District) -> None:
    admin = district.settings.admin
    assert admin.enabled and admin.secure_cookies
    assert admin.listen.startswith("127.0.0.1:"), "plain HTTP stays on the host's loopback"
    site = NGINX_SITE.read_text(encoding="utf-8")
    assert f"proxy_pass http://{admin.listen};" in site
    readme = (DOCKER / "README.md").read_text(encoding="utf-8")
    for needle in ("## The admin page", admin.listen, "configs/nginx/nms-admin.conf", "secure_cookies",
                   "docker compose run --rm nms --config /etc/nms/nms.yaml admin create-user"):
        assert needle in readme, needle
    create = re.search(r"docker compose run --rm (nms .*admin create-user[^`]*)`", readme).group(1)
    from nms.cli import build_parser

    args = build_parser().parse_args(shlex.split(create)[1:])
    assert args.func.__name__ == "cmd_create_user"


def test_tls_proxy_serves_the_admin_page_with_secure_cookies(tmp_path: Path) -> None:
    """The shipped nginx site, run by Debian's nginx with a throw-away certificate, in front of the real page."""
    import datetime
    import subprocess

    import requests
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from tests.admin_fixtures import PASSWORDS, csrf_of, make_light_admin
    from tests.lab_fixtures import free_tcp_port, require_tool

    nginx = require_tool("nginx", "nginx-light")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin.example.go.kr")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "admin.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "admin.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    la = make_light_admin(tmp_path / "admin", secure_cookies=True)
    la.service.start_threads()
    https, http = free_tcp_port(), free_tcp_port()
    site = (NGINX_SITE.read_text(encoding="utf-8")
            .replace("/etc/ssl/nms/", f"{tmp_path}/").replace("127.0.0.1:8080", f"127.0.0.1:{la.service.port}")
            .replace("listen 443", f"listen 127.0.0.1:{https}").replace("listen [::]:443", "#")
            .replace("listen 80", f"listen 127.0.0.1:{http}").replace("listen [::]:80", "#"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = tmp_path / "temp"
    temp.mkdir(mode=0o777)
    temp.chmod(0o777)
    (tmp_path / "nginx.conf").write_text(
        f"user root; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; worker_processes 1;\n"
        f"events {{}}\nhttp {{ access_log off; client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;\n"
        f"fastcgi_temp_path {temp}/f; uwsgi_temp_path {temp}/u; scgi_temp_path {temp}/s;\n"
        f"include {tmp_path}/site.conf; }}\n", encoding="utf-8")
    check = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        session = requests.Session()  # the certificate names admin.example.go.kr, not 127.0.0.1: not verified
        base = f"https://127.0.0.1:{https}"
        end = time.monotonic() + 20
        while True:
            try:
                page = session.get(f"{base}/login", timeout=5, verify=False)
                break
            except requests.ConnectionError:
                assert time.monotonic() < end, "nginx did not come up"
                time.sleep(0.2)
        assert page.status_code == 200
        resp = session.post(f"{base}/login", data={"username": "admin", "password": PASSWORDS["admin"],
                                                   "csrf_token": csrf_of(page.text)},
                            allow_redirects=False, verify=False, timeout=10)
        assert resp.status_code == 302, resp.text[:500]
        cookies = resp.headers.get("Set-Cookie", "")
        assert "Secure" in cookies and "HttpOnly" in cookies, cookies
        assert resp.headers.get("Strict-Transport-Security", "").startswith("max-age=")
        plain = requests.get(f"http://127.0.0.1:{http}/login", allow_redirects=False, timeout=5)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    finally:
        proc.terminate()
        proc.wait(10)
        la.service.stop_threads()
        la.service.close()
