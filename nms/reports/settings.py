"""``reports:`` in nms.yaml: where the figures come from and where scheduled reports are kept."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prometheus: str = Field(default="http://127.0.0.1:9090", pattern=r"^https?://[\w.:\[\]-]+(/[\w./-]*)?$",
                            description="the Prometheus that loads configs/prometheus/recording.yml")
    directory: Path = Field(default=Path("/var/lib/nms/reports"),
                            description="scheduled reports are kept here, relative to nms.yaml (listed by the "
                                        "admin page)")
    schedule: bool = Field(default=True, description="`nms run` writes the previous month's report on the 1st at "
                                                     "06:00 (Asia/Seoul)")
