"""``admin:`` in nms.yaml: where the admin page listens and keeps its state. Paths are relative to nms.yaml."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_STATE_DIR = Path("/var/lib/nms/admin")


class AdminSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="`nms run` serves the admin page")
    listen: str = Field(default="127.0.0.1:8080", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port of the admin page (waitress)")
    threads: int = Field(default=8, ge=1, le=64, description="waitress worker threads")
    session_lifetime: int = Field(default=8 * 3600, ge=300, le=7 * 86400,
                                  description="seconds a login stays valid without use")
    secure_cookies: bool = Field(default=False, description="the page is served over HTTPS (e.g. behind a TLS "
                                 "proxy): cookies get the Secure flag")
    state_dir: Path = Field(default=DEFAULT_STATE_DIR,
                            description="users, sessions, audit log and the announcement audio archive")
    users_db: Path | None = Field(default=None, description="default: <state_dir>/users.sqlite3")
    ivr_config: Path = Field(default=Path("ivr.yaml"), description="the IVR configuration edited by the page")
    sounds_dir: Path = Field(default=Path("/usr/share/asterisk/sounds"),
                             description="Asterisk's sounds directory as this host sees it; prompts go to "
                                         "<sounds_dir>/<language>/nms/KEY.wav")
    language: str = Field(default="ko", pattern=r"^(ko|en)$", description="default interface language")
    login_attempts: int = Field(default=5, ge=1, le=100, description="failed logins allowed per window")
    login_window: int = Field(default=300, ge=10, le=86400, description="seconds; also the lockout time")
    alertmanager_url: str | None = Field(default="http://127.0.0.1:9093",
                                         description="Alertmanager (API v2) for the firing alerts and silences; "
                                                     "none: the page shows no alerts")
    dial_targets: list[str] = Field(default_factory=list, description="staff dial targets (internal extensions "
                                    "and queues, e.g. PJSIP/2301) a department may be pointed at on the page, "
                                    "besides the phones in ivr.yaml and the targets departments already use")
    call_limit_min: int = Field(default=60, ge=10, le=86400, description="seconds: the least call time limit "
                                "(warning or end) the page accepts")
    call_limit_max: int = Field(default=7200, ge=60, le=86400, description="seconds: the most call time limit "
                                "(warning or end) the page accepts")
    reload_url: str | None = Field(default=None, description="standalone `nms admin`: POST here to apply "
                                   "inventory/polling changes to a running `nms run` (default: its http.listen)")

    def resolved(self, base: Path) -> AdminSettings:
        """The same settings with relative paths made absolute against ``base`` (nms.yaml's directory)."""
        def r(p: Path | None) -> Path | None:
            return p if p is None or p.is_absolute() else base / p

        state = r(self.state_dir)
        return self.model_copy(update={"state_dir": state, "users_db": r(self.users_db) or state / "users.sqlite3",
                                       "ivr_config": r(self.ivr_config), "sounds_dir": r(self.sounds_dir)})
