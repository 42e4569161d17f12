"""Secrets (SNMP communities and keys, the AMI secret, ...) never live in the repo or in configs.

A secret named ``district-v2c`` is looked up, in order:

1. the environment variable ``NMS_SECRET_DISTRICT_V2C``;
2. the file ``district-v2c`` in the secrets directory (``--secrets-dir``, else ``$NMS_SECRETS_DIR``,
   else systemd's ``$CREDENTIALS_DIRECTORY``, else ``/run/secrets/nms``), trailing newline stripped,
   or ``nms_district-v2c`` there: what systemd names the files of ``LoadCredential=nms:/etc/credstore/nms``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_SECRETS_DIR = Path("/run/secrets/nms")
#: systemd loads a credential directory as ``<ID>_<file>``; the units use the ID ``nms``.
CREDENTIAL_PREFIX = "nms_"


class SecretError(LookupError):
    pass


def env_name(secret: str) -> str:
    return "NMS_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", secret).upper()


class SecretResolver:
    def __init__(self, secrets_dir: Path | None = None, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        if secrets_dir is None:
            found = self.environ.get("NMS_SECRETS_DIR") or self.environ.get("CREDENTIALS_DIRECTORY")
            secrets_dir = Path(found) if found else DEFAULT_SECRETS_DIR
        self.secrets_dir = secrets_dir

    def get(self, name: str) -> str:
        value = self.environ.get(env_name(name))
        if value:
            return value
        path = self.secrets_dir / name
        if not path.exists() and (self.secrets_dir / (CREDENTIAL_PREFIX + name)).exists():
            path = self.secrets_dir / (CREDENTIAL_PREFIX + name)
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except FileNotFoundError:
            raise SecretError(f"secret {name!r} not found: set {env_name(name)} or create {path}") from None
        except OSError as exc:
            raise SecretError(f"secret {name!r}: cannot read {path}: {exc.strerror}") from None

    def require(self, names: list[str]) -> None:
        """Look every one of ``names`` up now; one SecretError naming all that are missing."""
        missing = []
        for name in names:
            try:
                self.get(name)
            except SecretError as exc:
                missing.append(str(exc))
        if missing:
            raise SecretError("\n".join(missing))
