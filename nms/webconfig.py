"""TLS and basic authentication for the service's HTTP endpoint, configured as Prometheus exporters are
(the exporter-toolkit ``web.config.yml``)::

    tls_server_config:
      cert_file: nms.crt           # relative to this file
      key_file: nms.key
      min_version: TLS12           # TLS12 (default) or TLS13
      client_ca_file: clients.crt  # optional: with client_auth_type
      client_auth_type: RequireAndVerifyClientCert
    basic_auth_users:
      prometheus: $2y$10$...       # bcrypt hash (`htpasswd -nBC 10 prometheus`)

Only these keys are read; anything else is refused, so a typo never silently leaves /metrics open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nms.configfile import ConfigError, Problem, parse_yaml_text

TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
CLIENT_AUTH = {"NoClientCert": ssl.CERT_NONE, "RequestClientCert": ssl.CERT_OPTIONAL,
               "RequireAnyClientCert": ssl.CERT_REQUIRED, "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
               "RequireAndVerifyClientCert": ssl.CERT_REQUIRED}
#: bcrypt is slow on purpose: only this many checks at once, and a right answer is remembered.
_CHECKS = threading.BoundedSemaphore(2)


@dataclass
class WebConfig:
    path: Path
    tls: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)  # user -> bcrypt hash
    _good: set[bytes] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_basic(self, header: str | None) -> bool:
        """True if no users are configured, or ``header`` (``Authorization``) names one with the right password."""
        if not self.users:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        hashed = self.users.get(user)
        if hashed is None or len(password) > 256:
            return False
        key = hashlib.sha256(hashed + b"\0" + password.encode()).digest()
        with self._lock:
            if any(hmac.compare_digest(key, k) for k in self._good):
                return True
        import bcrypt

        if not _CHECKS.acquire(timeout=5):
            return False
        try:
            ok = bcrypt.checkpw(password.encode(), hashed)
        except ValueError:
            ok = False
        finally:
            _CHECKS.release()
        if ok:
            with self._lock:
                if len(self._good) < 64:
                    self._good.add(key)
        return ok


def load_web_config(path: Path) -> WebConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read the web config: {exc.strerror}")]) from None
    data = parse_yaml_text(text, str(path)).data or {}

    def problem(where: str, message: str) -> ConfigError:
        return ConfigError([Problem(str(path), None, where, message)])

    if not isinstance(data, dict) or set(data) - {"tls_server_config", "basic_auth_users"}:
        raise problem("", "only tls_server_config and basic_auth_users are supported")
    config = WebConfig(path)
    users = data.get("basic_auth_users") or {}
    if not isinstance(users, dict):
        raise problem("basic_auth_users", "a mapping of user names to bcrypt hashes")
    for user, hashed in users.items():
        if not isinstance(hashed, str) or not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise problem(f"basic_auth_users.{user}", "not a bcrypt hash ($2y$...)")
        config.users[str(user)] = hashed.encode()
    tls = data.get("tls_server_config")
    if tls:
        if not isinstance(tls, dict) or set(tls) - {"cert_file", "key_file", "min_version", "client_ca_file",
                                                     "client_auth_type"}:
            raise problem("tls_server_config", "unsupported key (cert_file, key_file, min_version, "
                                               "client_ca_file, client_auth_type)")
        base = path.parent
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = TLS_VERSIONS.get(str(tls.get("min_version", "TLS12")), ssl.TLSVersion.TLSv1_2)
        try:
            ctx.load_cert_chain(base / str(tls["cert_file"]), base / str(tls["key_file"]))
            auth = str(tls.get("client_auth_type", "NoClientCert"))
            if auth not in CLIENT_AUTH:
                raise problem("tls_server_config.client_auth_type", f"unknown: {auth}")
            ctx.verify_mode = CLIENT_AUTH[auth]
            if tls.get("client_ca_file"):
                ctx.load_verify_locations(base / str(tls["client_ca_file"]))
        except KeyError as exc:
            raise problem("tls_server_config", f"{exc.args[0]} is required") from None
        except (OSError, ssl.SSLError) as exc:
            raise problem("tls_server_config", f"cannot load the certificate or key: {exc}") from None
        config.tls = ctx
    return config
