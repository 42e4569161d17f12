"""Asterisk's control socket (``asterisk.ctl``): the few privileged operations of the controller.

The controller's AMI account is read-only (write class ``reporting``: Getvar, CoreShowChannels,
DBGetTree). Everything that changes Asterisk goes through the control socket instead, where the
operating system decides who may connect (file mode and group of the socket, see SECURITY.md), and
no password travels or could be replayed: reloading the modules whose files the service rendered,
hanging up a call, and deleting a drained entry of the event outbox. An AMI account that may
``Reload`` would also be allowed ``GetConfig`` (Asterisk grants both to the ``config`` and
``system`` classes), i.e. read every secret in the configuration directory.

The protocol is the remote console's (``asterisk -rx``): the server sends a banner, the client sends
``cli quit after COMMAND`` and a NUL byte, and reads the output until the server closes.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from ivr.ami_protocol import AmiError

#: What may follow a fixed command word: channel names, AstDB keys, module names. No spaces, quotes
#: or control characters, so one argument can never become two commands or options.
_ARG = re.compile(r"^[A-Za-z0-9_.@/;:+\-]{1,200}$")
MAX_OUTPUT = 1 << 20


class ControlError(AmiError):
    pass


def control_socket_for(asterisk_etc: Path, etc: str, run: str) -> Path:
    """The host path of ``asterisk.ctl``, given the configuration directory as the host and as Asterisk see it.

    For a chrooted Asterisk (the lab) the host path of ``etc`` ends with Asterisk's own path; the part
    before it is the root of Asterisk's file system.
    """
    host = str(Path(asterisk_etc))
    inner = str(Path(etc))
    root = host[: -len(inner)] if inner != "/" and host.endswith(inner) else ""
    return Path(root + str(Path(run)) + "/asterisk.ctl")


class AsteriskControl:
    def __init__(self, path: Path, timeout: float = 15.0):
        self.path = Path(path)
        self.timeout = timeout

    async def command(self, *words: str) -> str:
        """Run one CLI command built from fixed words and checked arguments; return its output."""
        for w in words[1:]:
            if not _ARG.match(w):
                raise ControlError(f"refusing an unsafe argument for the Asterisk console: {w!r}")
        line = " ".join(words)
        try:
            return await asyncio.wait_for(self._run(line), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise ControlError(f"Asterisk control socket {self.path}: {exc or 'timed out'}") from None

    async def _run(self, line: str) -> str:
        reader, writer = await asyncio.open_unix_connection(str(self.path))
        try:
            await reader.readuntil(b"\n")  # banner: host/pid/version
            writer.write(b"cli quit after " + line.encode() + b"\0")
            await writer.drain()
            out = await reader.read(MAX_OUTPUT)
            while chunk := await reader.read(MAX_OUTPUT):
                if len(out) < MAX_OUTPUT:
                    out += chunk
        finally:
            writer.close()
        # The console marks log lines with a leading NUL-prefixed level; keep the text.
        return out.replace(b"\0", b"").decode("utf-8", "replace")

    async def reload_module(self, module: str) -> None:
        out = await self.command("module", "reload", module)
        if "reloaded successfully" not in out and "reload" not in out.lower():
            raise ControlError(f"reloading {module} failed: {out.strip()[:300]}")
        if "not found" in out.lower() or "does not" in out.lower():
            raise ControlError(f"reloading {module} failed: {out.strip()[:300]}")

    async def hangup(self, channel: str) -> None:
        out = await self.command("channel", "request", "hangup", channel)
        if "Requested Hangup" not in out:
            raise ControlError(f"no such call: {channel}")

    async def db_del(self, family: str, key: str) -> None:
        await self.command("database", "del", family, key)


def decrypt_caller(key: str, field: str) -> str:
    """The caller's number from the dialplan's ``AES_ENCRYPT(key, number)`` (base64 of AES-128-ECB,
    zero-padded); ``field`` itself if it is not that (an older dialplan sent the number)."""
    import base64
    import binascii

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        data = base64.b64decode(field, validate=True)
    except (binascii.Error, ValueError):
        return field
    if not data or len(data) % 16 or len(key) != 16:
        return field
    plain = Cipher(algorithms.AES(key.encode()), modes.ECB()).decryptor().update(data)
    try:
        text = plain.rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        return ""
    return text if text.isprintable() else ""
