"""Where an Asterisk instance keeps its files: the directories asterisk.conf names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Directories:
    """Where one Asterisk instance keeps its files (paths as Asterisk sees them)."""

    etc: str = "/etc/asterisk"
    varlib: str = "/var/lib/asterisk"
    spool: str = "/var/spool/asterisk"
    run: str = "/var/run/asterisk"
    log: str = "/var/log/asterisk"
    cache: str = "/var/cache/asterisk"
    data: str = "/usr/share/asterisk"
    modules: str = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
