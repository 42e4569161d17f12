"""Device strings (DisplayString, SnmpAdminString) as label text.

Korean equipment often sends CP949/EUC-KR rather than UTF-8. We try UTF-8, then CP949, and show
anything else as hex (``0x…``), so a label never fills with U+FFFD. Control characters (a MAC
address or other binary in a text column) also fall back to hex. Labels are capped in length so
one agent cannot inflate every scrape.
"""

from __future__ import annotations

MAX_LABEL_CHARS = 256


def _printable(text: str) -> bool:
    return text.isprintable() or all(ch.isprintable() or ch in "\t\n" for ch in text)


def decode_octets(raw: bytes) -> tuple[str, bool]:
    """``(text, ok)``: ok is False when the octets were shown as hex."""
    raw = raw.rstrip(b"\x00")  # C strings sent with their terminator
    if raw.isascii():
        text = raw.decode("ascii")
        if _printable(text):
            return text[:MAX_LABEL_CHARS], True
        return "0x" + raw[: MAX_LABEL_CHARS // 2].hex(), False
    for codec in ("utf-8", "cp949"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if _printable(text):
            return text[:MAX_LABEL_CHARS], True
    return "0x" + raw[: MAX_LABEL_CHARS // 2].hex(), False


def label_text(value: object) -> tuple[str, bool]:
    """Any polled value as label text; ``ok`` as in :func:`decode_octets`."""
    if isinstance(value, bytes):
        return decode_octets(value)
    if value is None:
        return "", True
    if isinstance(value, tuple):  # an OID (sysObjectID)
        return ".".join(map(str, value)), True
    return str(value)[:MAX_LABEL_CHARS], True
