"""Settings of the alert relay (the ``alerting:`` section of nms.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

SecretName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForwardSettings(_Strict):
    """Where relayed notifications go: a generic HTTP endpoint (messenger bot, SMS gateway)."""

    url: AnyHttpUrl = Field(description="endpoint that receives a JSON POST per notification")
    token_secret: SecretName | None = Field(
        default=None, description="secret whose value is sent as 'Authorization: Bearer …' (nms.secrets)")
    timeout: float = Field(default=5.0, gt=0, le=60, description="seconds per attempt")
    attempts: int = Field(default=4, ge=1, le=20, description="attempts before a delivery is logged as failed")
    backoff: float = Field(default=2.0, ge=0, le=600, description="seconds before the 2nd attempt; doubles after")


class AlertingSettings(_Strict):
    enabled: bool = Field(default=False, description="run the relay (needs the secret named by token_secret)")
    listen: str = Field(default="127.0.0.1:9702", pattern=r"^[\w.:\[\]-]+:\d+$",
                        description="host:port of the relay's webhook receiver (POST /api/alerts/relay)")
    token_secret: SecretName = Field(default="alert-relay-token",
                                     description="secret Alertmanager must send as its bearer token")
    forward: ForwardSettings | None = Field(default=None, description="no endpoint: notifications are only logged")
    log: Path = Field(default=Path("state/alert-deliveries.jsonl"),
                      description="delivery log, relative to nms.yaml")
    log_entries: int = Field(default=1000, ge=10, le=1_000_000, description="newest entries kept in the log")
    queue_limit: int = Field(default=200, ge=1, le=100_000,
                             description="notifications waiting for delivery; beyond it the relay answers 503")
    max_body: int = Field(default=1 << 20, ge=1024, le=64 << 20, description="largest webhook body accepted, bytes")
