"""Caller numbers: one canonical form, so that the same caller is one key however the carrier wrote it.

Korean carriers deliver the calling number in several shapes: national with the trunk prefix
(``010-1234-5678``), without it (``1012345678``), international (``+82 10 1234 5678``,
``0082 10...``, ``82 10...``), with blanks, dashes or dots, or not at all (withheld: ``anonymous``,
``unknown``, ``private``, empty). The canonical form is the national number with its leading
``0`` (``01012345678``); a foreign number stays E.164 (``+12125550123``); a withheld number has
none (``None``): withheld callers are not one person and never share a key.

Display masking and the keyed hash (HMAC-SHA256) both work on the canonical form.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: What carriers and phones put in the caller ID when the number is withheld or unknown
#: ("P"/"O": private / out of area, as in Korean caller-ID displays).
WITHHELD = frozenset({"", "anonymous", "unknown", "unavailable", "private", "restricted", "withheld",
                      "p", "o", "none", "null", "invalid"})
_SEPARATORS = re.compile(r"[\s\-.()/]")
#: National significant numbers (without the leading 0) that may arrive without their trunk prefix:
#: mobile 10-19, Seoul 2, the provinces 31-33/41-44/51-55/61-64, internet phones 70, personal 50.
#: 9-10 digits: 8 digits or fewer are local numbers (dialled without an area code) and stay as they are.
_NATIONAL = re.compile(r"^(1[016789][0-9]{7,8}|2[0-9]{8}|(3[1-3]|4[1-4]|5[1-5]|6[1-4])[0-9]{7,8}"
                       r"|70[0-9]{8}|50[0-9]{8,9})$")
#: Nationwide representative numbers (1588-xxxx, 1577-, 1644-, 1800-, ...): 8 digits, no prefix.
_REPRESENTATIVE = re.compile(r"^1[5689][0-9]{6}$")
MAX_DIGITS = 15  # E.164


def normalise(raw: str | None) -> str | None:
    """The canonical caller number, or None if it is withheld or not a number at all."""
    if raw is None:
        return None
    text = _SEPARATORS.sub("", raw.strip())
    if text.lower() in WITHHELD:
        return None
    if text.startswith("+"):
        digits, international = text[1:], True
    elif text.startswith("00"):
        # 00 is the international prefix: 0082 10..., and foreign numbers 001 ... as +1 ...
        digits, international = text[2:], True
    else:
        digits, international = text, False
    if not digits.isdigit() or not digits.isascii() or len(digits) > MAX_DIGITS:
        return None
    if international or (digits.startswith("82") and _NATIONAL.match(_drop_zero(digits[2:]))):
        if not digits.startswith("82"):
            return "+" + digits
        national = _drop_zero(digits[2:])  # "+82 (0)10 ..." is seen too
        if not national:
            return None
        return national if _REPRESENTATIVE.match(national) else "0" + national
    if digits.startswith("0"):
        return digits
    if _NATIONAL.match(digits) and not _REPRESENTATIVE.match(digits):
        return "0" + digits
    return digits  # local numbers, representative numbers, short service numbers: as they are


def _drop_zero(digits: str) -> str:
    return digits[1:] if digits.startswith("0") else digits


def mask(number: str | None) -> str:
    """For display: the first digits and the last four, the rest starred (``010****5678``).

    ``number`` is canonical; a withheld number masks to the empty string.
    """
    if not number:
        return ""
    if len(number) <= 4:
        return "*" * len(number)
    keep_head = 3 if len(number) > 7 else 1
    return number[:keep_head] + "*" * (len(number) - keep_head - 4) + number[-4:]


def caller_key(key: bytes, number: str | None) -> str:
    """The keyed hash of a canonical number (hex); empty for a withheld number."""
    if not number:
        return ""
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def mask_raw(raw: str | None) -> str:
    """Mask a number as the carrier delivered it (normalised first)."""
    return mask(normalise(raw))
