"""The lab's own SNMP secrets: random, generated once per run directory, files with mode 0600.

They are written as the secrets the service reads (nms/secrets.py): ``<set>`` holds a v2c
community, ``<set>-auth`` and ``<set>-priv`` the v3 keys. The service started with
``NMS_SECRETS_DIR=<run-dir>/secrets`` then polls the lab with them.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from collectors.snmp.config import Credential, SnmpConfig
from nms.store import atomic_write_bytes


@dataclass(frozen=True)
class LabCredential:
    name: str
    version: str  # "2c" or "3"
    community: str | None = None
    username: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = None
    priv_protocol: str | None = None
    priv_key: str | None = None

    def net_snmp_args(self) -> list[str]:
        """Arguments for net-snmp's tools (snmpget, snmpbulkwalk)."""
        if self.version == "2c":
            return ["-v2c", "-c", self.community or ""]
        return ["-v3", "-l", "authPriv", "-u", self.username or "", "-a", self.auth_protocol or "",
                "-A", self.auth_key or "", "-x", self.priv_protocol or "", "-X", self.priv_key or ""]



def _secret(directory: Path, name: str, length: int) -> str:
    path = directory / name
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    # Hex only: a community is also a data file name for snmpsim, and keys pass through argv files.
    value = secrets.token_hex(length)
    atomic_write_bytes(path, (value + "\n").encode(), 0o600)
    return value


def ensure_lab_secrets(directory: Path, snmp: SnmpConfig) -> dict[str, LabCredential]:
    """Create (or reuse) the secrets of every credential set of ``snmp``; return them by set name."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    found: dict[str, LabCredential] = {}
    for name, cred in sorted(snmp.credentials.items()):
        found[name] = _credential(directory, name, cred)
    return found


def _credential(directory: Path, name: str, cred: Credential) -> LabCredential:
    if cred.version == "2c":
        return LabCredential(name, "2c", community=_secret(directory, name, 12))
    return LabCredential(name, "3", username=cred.username, auth_protocol=cred.auth_protocol,
                         auth_key=_secret(directory, f"{name}-auth", 16),
                         priv_protocol=cred.priv_protocol, priv_key=_secret(directory, f"{name}-priv", 16))


RELOAD_TOKEN = "http-reload-token"


def ensure_reload_token(directory: Path) -> Path:
    """The lab service's reload token (POST /-/reload needs it); returns its file."""
    _secret(directory, RELOAD_TOKEN, 24)
    return directory / RELOAD_TOKEN


LAB_ADMIN = "lab-admin"


def ensure_admin_login(users_db: Path, secrets_dir: Path) -> tuple[str, Path]:
    """A lab-only admin-page user with a random password kept in the lab's secrets (never a default).

    Created once, when the lab's user store is empty; returns the user name and the password file.
    """
    from nms.admin.users import Role, UserStore

    password_file = secrets_dir / "admin-password"
    users_db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = UserStore(users_db)
    try:
        if store.count() == 0:
            password = secrets.token_urlsafe(18)
            store.create(LAB_ADMIN, Role.ADMIN, password)
            atomic_write_bytes(password_file, (password + "\n").encode(), 0o600)
    finally:
        store.close()
    return LAB_ADMIN, password_file
