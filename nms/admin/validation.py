"""Server-side validation of an edited configuration with the service's own rules, in the user's language.

The page validates exactly what the service would load: the same pydantic models and the same
cross-field checks (``IvrConfig.problems``, ``Inventory.problems``). Every problem keeps its key
path, so the form can show it next to the field, and carries a message id plus arguments, so it
can be shown in Korean or English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from collectors.snmp.config import SnmpConfig
from ivr.config import IvrConfig
from nms.configfile import ConfigError, LocatedValueError, format_location, parse_yaml_text
from nms.inventory import topology
from nms.inventory.models import Inventory


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong, at ``loc`` (a key path such as ``hours.business[0].start``)."""

    loc: str
    code: str  # message id in nms.admin.i18n
    args: dict[str, Any] = field(default_factory=dict)
    raw: str = ""  # the service's own (English) message


class Invalid(Exception):
    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(f"{p.loc}: {p.raw or p.code}" for p in problems))
        self.problems = problems


#: The service's cross-field messages, recognised so they can be translated.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), code) for p, code in [
    (r"aliases \(\*name\) are not allowed", "v_yaml_alias"),
    (r"^department id '(?P<id>.+)' is used twice$", "v_dept_id_twice"),
    (r"^department '(?P<id>.+)' has no staff dial target", "v_dept_no_target"),
    (r"^DID (?P<did>\d+) is used twice \(also the main number\)$", "v_did_main"),
    (r"^DID (?P<did>\d+) is used twice \(also department '(?P<id>.+)'\)$", "v_did_twice"),
    (r"^menu digit (?P<digit>\d) is used twice \(also '(?P<id>.+)'\)$", "v_digit_twice"),
    (r"^department '(?P<id>.+)' is unreachable", "v_dept_unreachable"),
    (r"^no department has a menu digit", "v_menu_empty"),
    (r"^unknown announcement key '(?P<key>.+)'$", "v_ann_unknown"),
    (r"^'(?P<key>.+)' is never played: warning (?P<n>\d+) is the last one", "v_ann_unplayed"),
    (r"^announcement '(?P<key>.+)' is missing$", "v_ann_missing"),
    (r"^announcement '(?P<key>.+)' has no text$", "v_ann_empty"),
    (r"^route '(?P<route>.+)' is neither 'hangup' nor a department id$", "v_route"),
    (r"^the warning must come at least 1 s before the end$", "v_limit_order"),
    (r"^warning_after \((?P<warn>\d+)\) must be less than end_after \((?P<end>\d+)\)$", "v_limit_order"),
    (r"^unknown time zone '(?P<tz>.+)'$", "v_timezone"),
    (r"^business hours (?P<a>\S+) overlap (?P<b>\S+) on (?P<day>\w+)$", "v_hours_overlap"),
    (r"^a day is listed twice$", "v_day_twice"),
    (r"^lunch (?P<lunch>\S+) is not inside any business-hours period$", "v_lunch_outside"),
    (r"^holiday (?P<date>\S+) is listed twice$", "v_holiday_twice"),
    (r"^start (?P<start>\S+) is not before end (?P<end>\S+)$", "v_start_end"),
    (r"^duplicate site id '(?P<id>.+)'", "v_site_twice"),
    (r"^duplicate device name '(?P<name>.+)'", "v_device_twice"),
    (r"^duplicate management address (?P<address>\S+) port (?P<port>\d+) \(also (?P<name>.+)\)$",
     "v_address_twice"),
    (r"^unknown site '(?P<id>[^']+)'(; did you mean '[^']+'\?)?$", "v_site_unknown"),
    (r"^unknown SNMP profile '(?P<profile>[^']+)' \(known: (?P<known>[^)]+)\)(; did you mean '[^']+'\?)?$",
     "v_profile_unknown"),
    (r"^unknown credential set '(?P<name>.+)'", "v_credentials_unknown"),
]]

_TYPES = {
    "missing": "v_required", "string_pattern_mismatch": "v_pattern", "greater_than": "v_gt",
    "greater_than_equal": "v_ge", "less_than": "v_lt", "less_than_equal": "v_le", "int_parsing": "v_int",
    "int_type": "v_int", "int_from_float": "v_int", "float_parsing": "v_number", "float_type": "v_number",
    "bool_parsing": "v_bool", "bool_type": "v_bool", "date_from_datetime_parsing": "v_date",
    "date_parsing": "v_date", "date_type": "v_date", "string_too_short": "v_text_short",
    "too_short": "v_list_short", "enum": "v_choice", "literal_error": "v_choice", "extra_forbidden": "v_extra",
    "string_type": "v_text", "ip_v4_address": "v_ip", "ip_any_address": "v_ip", "ip_any_network": "v_ip",
    "list_type": "v_list",
}


def from_message(loc: str, message: str) -> FieldProblem:
    for pattern, code in _PATTERNS:
        m = pattern.search(message)
        if m:
            return FieldProblem(loc, code, m.groupdict(), message)
    return FieldProblem(loc, "v_other", {"message": message}, message)


def from_validation_error(exc: ValidationError) -> list[FieldProblem]:
    out = []
    for err in exc.errors(include_url=False):
        loc: tuple = tuple(err.get("loc", ()))
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, LocatedValueError):
            out.append(from_message(format_location(loc + inner.loc), inner.message))
            continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error":
            out.append(from_message(format_location(loc), message))
            continue
        args = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
        out.append(FieldProblem(format_location(loc), _TYPES.get(err["type"], "v_other"),
                                args | {"message": message}, message))
    return out


def _model(data: Any, model: type[BaseModel], prefix: tuple = ()) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = from_validation_error(exc)
        if prefix:
            pre = format_location(prefix)
            problems = [FieldProblem(f"{pre}.{p.loc}" if p.loc else pre, p.code, p.args, p.raw) for p in problems]
        raise Invalid(problems) from None


def _data(text: str, file: str) -> Any:
    try:
        return parse_yaml_text(text, file).data
    except ConfigError as exc:
        raise Invalid([from_message(p.location, p.message) for p in exc.problems]) from None


def check_ivr(text: str, file: str = "ivr.yaml") -> IvrConfig:
    """ivr.yaml as :func:`ivr.config.load_config` checks it; raises :class:`Invalid`."""
    config = _model(_data(text, file), IvrConfig)
    problems = [from_message(format_location(loc), msg) for loc, msg in config.problems()]
    if problems:
        raise Invalid(problems)
    return config


def check_inventory(text: str, snmp: SnmpConfig | None, file: str = "inventory.yaml") -> Inventory:
    inventory = _model(_data(text, file), Inventory)
    problems = topology.check(inventory, profiles=set(snmp.profiles) if snmp else None,
                                  credentials=set(snmp.credentials) if snmp else None)
    if problems:
        raise Invalid([from_message(format_location(loc), msg) for loc, msg in problems])
    return inventory


def check_settings(text: str, model: type[BaseModel], file: str = "nms.yaml") -> BaseModel:
    """nms.yaml against ``model``: the application's composed settings (the page does not import it)."""
    return _model(_data(text, file), model)


def check_file(kind: str, text: str, snmp: SnmpConfig | None = None, path: Path | None = None,
               settings_model: type[BaseModel] | None = None) -> Any:
    """Validate a whole file of one kind (``ivr``, ``inventory``, ``settings``; the last needs ``settings_model``)."""
    name = path.name if path else kind
    if kind == "ivr":
        return check_ivr(text, name)
    if kind == "inventory":
        return check_inventory(text, snmp, name)
    if kind == "settings":
        if settings_model is None:
            raise ValueError("checking nms.yaml needs the settings model")
        return check_settings(text, settings_model, name)
    raise ValueError(kind)
