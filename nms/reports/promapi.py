"""A small client of Prometheus's HTTP API (``/api/v1/query``), for the reports.

Only GET with a query string: nothing the user typed reaches the URL other than through
``urlencode``, and the base URL is checked to be http(s).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class PrometheusError(RuntimeError):
    """Prometheus could not be asked or refused the query; the message names the URL (Korean)."""


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    samples: list[tuple[float, float]]  # (unix time, value)


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 60.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PrometheusError(f"Prometheus 주소는 http(s)://호스트:포트 형식이어야 합니다: {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, str]) -> dict:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode(errors="replace")
            raise PrometheusError(f"Prometheus({self.url})가 질의를 거부했습니다 (HTTP {exc.code}): "
                                  f"{params.get('query')}: {detail}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise PrometheusError(f"Prometheus({self.url})에 질의할 수 없습니다: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus({self.url}) 질의 실패: {params.get('query')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float) -> list[Series]:
        """An instant query; a range selector (``x[1h]``) returns the raw samples."""
        data = self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})
        return _series(data)

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        data = self._get("/api/v1/query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                                 "step": f"{step:.3f}"})
        return _series(data)


def _series(data: dict) -> list[Series]:
    kind = data["resultType"]
    if kind == "vector":
        return [Series(r["metric"], [(float(r["value"][0]), float(r["value"][1]))]) for r in data["result"]]
    if kind == "matrix":
        return [Series(r["metric"], [(float(t), float(v)) for t, v in r["values"]]) for r in data["result"]]
    if kind == "scalar":
        return [Series({}, [(float(data["result"][0]), float(data["result"][1]))])]
    raise PrometheusError(f"예상하지 못한 결과 형식: {kind}")
