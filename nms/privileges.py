"""Running helper programs (sox, espeak-ng) without the service's privileges.

They parse untrusted input (uploaded audio, announcement text). When the service runs as root (the
lab, a first test install), each runs as ``nobody`` instead, in a private work directory handed to
it: ``nobody`` owns no file, so a tool taken over by a crafted file can read neither the service's
secrets nor its state. When the service runs as its own user (``nms``, the systemd units), the tools
run as that user, inside the unit's sandbox. See SECURITY.md.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Sequence
from pathlib import Path

TOOL_USERS = ("nobody",)  # owns nothing: not even the service's own files and secrets


def tool_user() -> pwd.struct_passwd | None:
    """The account helper programs run as, or None when the service is not root (they run as it)."""
    if os.geteuid() != 0:
        return None
    for name in TOOL_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"running as root, but none of the users {', '.join(TOOL_USERS)} exists to run tools as")


def give_to_tool_user(path: Path) -> None:
    """Hand a private work directory (or file) to the tool user, so it can write there and nowhere else."""
    user = tool_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def run_tool(argv: Sequence[str], *, cwd: Path, input: str | None = None,
             timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as the tool user in ``cwd``, with a minimal environment; never through a shell."""
    user = tool_user()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(cwd), "TMPDIR": str(cwd)}
    kwargs: dict = {}
    if user is not None:
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    return subprocess.run(list(argv), cwd=cwd, input=input, capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL, **kwargs)
