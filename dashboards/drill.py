"""The drill-down path: overview -> category -> site -> device -> interface.

One place for the dashboards' uids, the links between them and the variables they share, so that
a link always carries what the next level needs (``var-site=...``) and every level shows the
inventory's Korean names (``nms_site_info{name}``) while keeping ids as values.
"""

from __future__ import annotations

from dashboards.model import Annotation, Link, Variable, dashboard_url

OVERVIEW = "nms-noc"
CATEGORY = "nms-category"
SITE = "nms-site"
DEVICE = "nms-device"
INTERFACE = "nms-interface"

SITE_NAME_REGEX = '/name="(?<text>[^"]*)".*site="(?<value>[^"]*)"/'
DEPARTMENT_NAME_REGEX = '/department="(?<value>[^"]*)".*name="(?<text>[^"]*)"/'

UP_DOWN = {"1": ("정상", "green"), "0": ("장애", "red")}
"""nms_device_up."""


def category_variable() -> Variable:
    return Variable("category", "분류 (category)", "label_values(nms_site_info, category)")


def site_variable(category: str = 'category=~"$category"') -> Variable:
    """One site, listed by its Korean name (the value stays the site id)."""
    return Variable("site", "사이트 (site)", f"query_result(max by (site, name) (nms_site_info{{{category}}}))",
                    multi=False, include_all=False, all_value=None, regex=SITE_NAME_REGEX)


def device_variable(selector: str = 'site="$site",status="active"') -> Variable:
    return Variable("device", "장비 (device)", f"label_values(nms_device_info{{{selector}}}, device)",
                    multi=False, include_all=False, all_value=None)


def interface_variable() -> Variable:
    return Variable("interface", "인터페이스 (ifName)",
                    'label_values({__name__=~"ifHCInOctets|ifInOctets",device="$device"}, ifName)',
                    multi=False, include_all=False, all_value=None)


def to_category(category: str = "${__value.raw}") -> Link:
    return Link("분류 상세 · Category", dashboard_url(CATEGORY, category=category))


def to_site(site: str = "${__value.raw}") -> Link:
    return Link("사이트 상세 · Site", dashboard_url(SITE, category="$__all", site=site))


def to_device(device: str = "${__value.raw}", site: str = "${__data.fields.site}") -> Link:
    return Link("장비 상세 · Device", dashboard_url(DEVICE, site=site, device=device))


def to_interface(interface: str = "${__value.raw}", device: str = "$device", site: str = "$site") -> Link:
    return Link("인터페이스 상세 · Interface", dashboard_url(INTERFACE, site=site, device=device, interface=interface))


def reboot_annotation(selector: str = "") -> Annotation:
    """A mark where a device's sysUpTime went back (window = step + one scrape, so each change is seen once)."""
    return Annotation("재부팅 · Reboots", f"changes(nms_snmp_device_reboots_total{{{selector}}}[75s]) > 0", "orange",
                      "재부팅 {{device}}", "{{device}} ({{role}}, {{site}}) rebooted: sysUpTime went back")


def config_change_annotation() -> Annotation:
    """A mark for each configuration change saved or applied on the admin page (its audit log)."""
    return Annotation("설정 변경 · Config changes",
                      'changes(nms_admin_changes_total{result=~"applied|saved|restored"}[75s]) > 0', "blue",
                      "설정 변경 {{file}}", "{{file}}: {{result}} on the admin page (see its audit log)")
