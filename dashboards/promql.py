"""PromQL pieces shared by the dashboards (and mirrored by the alert rules).

Conventions the queries rely on, documented in docker/README.md for a real network:

* an uplink is an interface whose ifAlias (its description) starts with ``uplink``; a backbone
  interlink starts with ``interlink``;
* a port is in use when it has a description (ifAlias not empty) and is administratively up;
* an AP's wired port carries all of its clients' traffic: in = toward the clients (download), out =
  from them (upload). APs are polled for ifXTable only (no ifType), so the wired port is known by
  its name: Cisco ``Gi0``/``GigabitEthernet0``, UniFi ``eth0`` (radios are ``Do0``, ``wifi0``, ...).
"""

from __future__ import annotations

from dashboards import windows

UPLINK_ALIAS = "(?i)uplink.*"
BACKBONE_LINK_ALIAS = "(?i)(uplink|interlink).*"
AP_WIRED = 'role="ap",ifName=~"(?i)(gi|eth|lan).*"'
"""Selects an AP's wired (Ethernet) ports; extend the name pattern for another AP vendor."""


def rate(metric: str, selector: str = "", *classes: str, function: str = "rate") -> str:
    """``rate(metric{selector}[w])`` with w = 4 polls of the slowest class read (dashboards.windows).

    ``classes`` names the device classes when the selector's ``role`` is a variable or absent.
    """
    w = windows.window(*classes) if classes else windows.for_selector(selector)
    return f"{function}({metric}{{{selector}}}[{w}])"


def bits(metric: str, selector: str, *classes: str) -> str:
    """bit/s of an octet counter."""
    return f"{rate(metric, selector, *classes)} * 8"


def utilisation(direction: str, selector: str, *classes: str) -> str:
    """Share (0..1) of the port's speed used in one direction; ports of unknown speed are left out."""
    metric = "ifHCInOctets" if direction == "in" else "ifHCOutOctets"
    return f"{bits(metric, selector, *classes)} / (ifHighSpeed{{{selector}}} * 1e6 > 0)"


def utilisation_max(selector: str, *classes: str, by: str = "device, ifName, ifAlias") -> str:
    """The busier direction's utilisation per port."""
    return (f'max by ({by}) (label_replace({utilisation("in", selector, *classes)}, "direction", "in", "", "") '
            f'or label_replace({utilisation("out", selector, *classes)}, "direction", "out", "", ""))')


def with_install_year(expr: str) -> str:
    """Adds the AP's install-year group (the seed table's row) from the inventory info series."""
    return (f"({expr}) * on (device) group_left (installed_group) "
            'max by (device, installed_group) (nms_device_info{role="ap"})')


def ap_availability(by: str, selector: str = "") -> str:
    extra = f",{selector}" if selector else ""
    return (f'sum by ({by}) (nms_site_devices_up{{role="ap"{extra}}}) '
            f'/ sum by ({by}) (nms_site_devices{{role="ap"{extra}}})')


def top_talkers_bps(n: int = 10, window: str = "5m") -> str:
    """Top talkers as bit/s: each window's bytes over the window's length, the peak of the last ``window``."""
    return (f"topk({n}, max by (address, site) (max_over_time(nms_flow_top_talker_bytes[{window}])) * 8 "
            "/ scalar(max(nms_flow_top_talker_window_seconds)))")


WINDOW = windows.window()
"""The window for series not tied to a device class (flows, IVR, collector health): the slowest class's."""


def counter_rate(metric: str, selector: str, by: str, factor: str = "") -> str:
    """Per-second rate of a counter summed ``by`` labels, over the slowest class's window."""
    return f"sum by ({by}) (rate({metric}{{{selector}}}[{WINDOW}])){factor}"


def octets_bits(direction: str, selector: str, by: str) -> str:
    """bit/s from the 64-bit counter (``In``/``Out``), or the 32-bit one where a device has no ifXTable."""
    return (f"({counter_rate(f'ifHC{direction}Octets', selector, by, ' * 8')} "
            f"or {counter_rate(f'if{direction}Octets', selector, by, ' * 8')})")


def with_site_name(expr: str) -> str:
    """Adds the site's Korean name (``name``) from the inventory's ``nms_site_info``."""
    return f"({expr}) * on (site) group_left (name) max by (site, name) (nms_site_info)"


def down_since(selector: str = "") -> str:
    """Seconds each down device has been down (since its first failed poll after it last answered)."""
    return (f"(time() - max by (device, site) (nms_device_down_since_timestamp_seconds{{{selector}}})) "
            f"and on (device) (max by (device) (nms_device_up{{{selector}}}) == 0)")


def firing_alerts(selector: str = "") -> str:
    extra = f",{selector}" if selector else ""
    return f'ALERTS{{alertstate="firing"{extra}}}'
