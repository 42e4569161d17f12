"""The lab caller's least-privilege AMI account and its secret."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from ivr.amipolicy import AmiUser
from nms.store import atomic_write_bytes

CALLER_USER = "nms-lab-caller"
CALLER_SECRET = "lab-caller-ami"  # file name in the lab's secrets directory

#: No read class: it needs no events (sync Originate, polled BRIDGEPEER).
CALLER_READ: tuple[str, ...] = ()
CALLER_WRITE = ("originate", "call")


def ensure_caller_secret(secrets_dir: Path) -> str:
    """The caller's AMI secret, generated once in the lab's secrets directory (mode 0600)."""
    path = Path(secrets_dir) / CALLER_SECRET
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    Path(secrets_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    atomic_write_bytes(path, (value + "\n").encode("utf-8"), mode=0o600)
    return value


def caller_ami_user(secrets_dir: Path) -> AmiUser:
    """The caller's least-privilege AMI account, for ``start_lab_asterisk(extra_ami_users=...)``."""
    return AmiUser(CALLER_USER, ensure_caller_secret(secrets_dir), CALLER_READ, CALLER_WRITE)
