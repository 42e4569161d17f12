"""The IVR's section of nms.yaml (``ivr:``): whether it runs, its configuration file, where Asterisk's goes."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class IvrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    config: Path = Field(default=Path("ivr.yaml"), description="the IVR configuration, relative to nms.yaml")
    asterisk_etc: Path | None = Field(default=Path("/etc/asterisk"),
                                      description="where rendered Asterisk configuration is written on reload")
