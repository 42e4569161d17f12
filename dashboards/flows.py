"""Flows (NetFlow v5/v9, IPFIX): traffic by protocol, service, site and category, top talkers, exporter health."""

from __future__ import annotations

from dashboards import drill
from dashboards.model import HIDE_TIME, Dashboard, Link, Panel, Row, Target, Variable, dashboard_url
from dashboards.promql import WINDOW, top_talkers_bps

_EXP = 'exporter=~"$exporter"'


def dashboard() -> Dashboard:
    traffic = Row("트래픽 · Traffic", [
        Panel("프로토콜별 · By protocol", "timeseries", [Target(
            f"sum by (protocol) (rate(nms_flow_protocol_bytes_total[{WINDOW}])) * 8", "{{protocol}}")],
            width=12, height=8, unit="bps", custom={"stacking": {"group": "A", "mode": "normal"}, "fillOpacity": 30}),
        Panel("서비스별 상위 10 · Top 10 services", "timeseries", [Target(
            f"topk(10, sum by (protocol, port) (rate(nms_flow_service_bytes_total[{WINDOW}]))) * 8",
            "{{protocol}}/{{port}}")], width=12, height=8, unit="bps",
            description="Well-known ports configured in nms.yaml (flows.ports); every other port is 'other'."),
        Panel("분류별 · By site category", "timeseries", [Target(
            f"sum by (category, direction) (rate(nms_flow_site_bytes_total[{WINDOW}])) * 8",
            "{{category}} {{direction}}")], width=12, height=8, unit="bps",
            description="out: sent by the category's sites, in: received by them. 'external' is every other address."),
        Panel("사이트별 상위 10 · Top 10 sites", "timeseries", [Target(
            f'topk(10, sum by (site) (rate(nms_flow_site_bytes_total{{site!="external"}}[{WINDOW}]))) * 8',
            "{{site}}")],
            width=12, height=8, unit="bps", data_links=[drill.to_site("${__field.labels.site}")],
            description="Both directions, by the inventory's site subnets. Click a site for its page."),
        Panel("상위 트래픽 호스트 · Top talkers", "table", [Target(top_talkers_bps(20), instant=True, table=True)],
              width=12, height=10, unit="bps", transformations=[HIDE_TIME],
              description="Bytes sent per top-talker window (flows.top_window), as bit/s; the peak of the last "
                          "5 minutes."),
        Panel("프로토콜 비중 · Protocol share", "piechart", [Target(
            "sum by (protocol) (increase(nms_flow_protocol_bytes_total[$__range]))", "{{protocol}}", instant=True)],
            width=6, height=10, unit="decbytes"),
        Panel("초당 흐름 · Flows per second", "stat", [Target(
            f"sum(rate(nms_flow_protocol_flows_total[{WINDOW}]))")], width=6, height=10, unit="short",
            color="blue", options={"colorMode": "value"}),
        Panel("익스포터 인터페이스 · Traffic per exporter interface", "timeseries", [Target(
            f"sum by (exporter, interface, direction) (rate(nms_flow_bytes_total{{{_EXP}}}[{WINDOW}])) * 8",
            "{{exporter}} if {{interface}} {{direction}}")], width=24, height=8, unit="bps",
            description="SNMP ifIndex of the exporting device: in = input interface, out = output interface."),
    ])
    health = Row("익스포터 상태 · Exporter health", [
        Panel("초당 레코드 · Records per second", "timeseries", [Target(
            f"sum by (exporter, version) (rate(nms_flow_records_total{{{_EXP}}}[{WINDOW}]))",
            "{{exporter}} v{{version}}")], width=12, height=8, unit="short"),
        Panel("초당 익스포트 패킷 · Export packets per second", "timeseries", [Target(
            f"sum by (exporter, version) (rate(nms_flow_export_packets_total{{{_EXP}}}[{WINDOW}]))",
            "{{exporter}} v{{version}}")], width=12, height=8, unit="short"),
        Panel("템플릿 · Templates known", "stat", [Target(
            f"sum by (exporter) (nms_flow_templates{{{_EXP}}})", "{{exporter}}", instant=True)],
            unit="short", width=6, height=6, decimals=0, color="blue", options={"colorMode": "value"}),
        Panel("템플릿 대기 · Data waiting for templates", "stat", [Target("sum(nms_flow_waiting_sets)", instant=True)],
              unit="short", width=6, height=6, decimals=0, thresholds=[(None, "green"), (1, "yellow")]),
        Panel("디코드 대기열 · Decode queue", "stat", [Target("sum(nms_flow_queue_length)", instant=True)],
              unit="short", width=6, height=6, decimals=0,
              thresholds=[(None, "green"), (10000, "yellow"), (100000, "red")]),
        Panel("디코드 CPU · Decode CPU", "stat", [Target(
            f"sum(rate(nms_flow_decode_cpu_seconds_total[{WINDOW}]))")], width=6, height=6, unit="percentunit",
            thresholds=[(None, "green"), (0.7, "yellow"), (0.9, "red")],
            description="Share of one core spent decoding and aggregating."),
    ])
    losses = Row("손실과 오류 · Drops and errors", [
        Panel("손실 · Drops", "timeseries", [
            Target(f"sum(rate(nms_flow_queue_dropped_total[{WINDOW}]))", "대기열 queue full"),
            Target(f"sum(rate(nms_flow_kernel_receive_drops_total[{WINDOW}]))", "소켓 socket buffer"),
            Target(f"sum by (exporter) (rate(nms_flow_sequence_lost_flows_total{{{_EXP}}}[{WINDOW}])) "
                   f"or sum by (exporter) (rate(nms_flow_records_total{{{_EXP}}}[{WINDOW}])) * 0",
                   "네트워크 network {{exporter}}"),
        ], width=12, height=8, unit="short",
            description="Datagrams dropped in the collector (queue, socket) and flows lost on the way "
                        "(sequence numbers; 0 for an exporter that has lost none)."),
        Panel("디코드 오류 · Decode errors", "timeseries", [Target(
            f"sum by (reason) (rate(nms_flow_decode_errors_total[{WINDOW}]))", "{{reason}}")],
            width=6, height=8, unit="short", event_driven=True,
            description="Datagrams or sets that could not be decoded; no series until the first error."),
        Panel("시퀀스 재설정 · Sequence resets", "stat", [Target(
            f"round(sum by (exporter) (increase(nms_flow_sequence_resets_total{{{_EXP}}}[$__range])))", "{{exporter}}",
            instant=True)], unit="short", width=6, height=8, decimals=0, thresholds=[(None, "green"), (1, "yellow")],
            description="Exporter restarts or sequence jumps in the period."),
    ])
    return Dashboard(
        uid="nms-flows", title="흐름 · Flows",
        description="NetFlow v5/v9 and IPFIX from the district's exporters, aggregated by the nms flow collector.",
        rows=[traffic, health, losses], tags=["flows"],
        links=[Link("NOC 종합 · Overview", dashboard_url(drill.OVERVIEW)),
               Link("사이트 상세 · Site", dashboard_url(drill.SITE))],
        variables=[Variable("exporter", "익스포터 (exporter)", "label_values(nms_flow_records_total, exporter)")])
