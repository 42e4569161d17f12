"""Messages for bad configuration: `file:line: device-or-site: plain message`, every problem in one run,
in the user's language (one catalogue for the admin page, the CLI and the lab)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nms import exitcodes
from nms.configfile import ConfigError, parse_yaml_text
from nms.i18n import CATALOG, language_from_environment

REPO = Path(__file__).resolve().parent.parent


def nms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = shutil.which("nms", path=str(Path(sys.executable).parent))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ["PATH"], **env})


@pytest.fixture
def broken(tmp_path: Path) -> tuple[Path, int, int]:
    """The shipped configuration with a bad address on core-sw-01 and a site typo on acc-sw-09."""
    for name in ("nms.yaml", "inventory.yaml", "snmp.yaml", "ivr.yaml"):
        shutil.copy(REPO / "configs" / name, tmp_path / name)
    lines = (tmp_path / "inventory.yaml").read_text(encoding="utf-8").splitlines()
    ip_line = next(i for i, line in enumerate(lines) if "name: core-sw-01," in line)
    lines[ip_line] = re.sub(r"address: [\d.]+", "address: 10.0.0.999", lines[ip_line])
    site_line = next(i for i, line in enumerate(lines) if "name: acc-sw-09," in line)
    assert "site: government-009" in lines[site_line]
    lines[site_line] = lines[site_line].replace("site: government-009", "site: goverment-009")
    (tmp_path / "inventory.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "nms.yaml", ip_line + 1, site_line + 1


def test_bad_address_and_site_typo_are_both_reported_plainly(broken: tuple[Path, int, int]) -> None:
    config, ip_line, site_line = broken
    done = nms("--config", str(config), "config", "check", env={"LANG": "C.UTF-8"})
    assert done.returncode == exitcodes.CONFIG
    inventory = config.parent / "inventory.yaml"
    lines = done.stderr.splitlines()
    assert f"{inventory}:{ip_line}: core-sw-01: address: '10.0.0.999' is not an IP address" in lines
    assert (f"{inventory}:{site_line}: acc-sw-09: site: unknown site 'goverment-009'; "
            f"did you mean 'government-009'?") in lines
    for internal in ("lax-or-strict", "function-plain", "json-or-python", "devices[", "Input should"):
        assert internal not in done.stderr, internal


def test_messages_follow_the_locale_and_lang_overrides_it(broken: tuple[Path, int, int]) -> None:
    config, ip_line, _ = broken
    korean = nms("--config", str(config), "config", "check", env={"LANG": "ko_KR.UTF-8"})
    assert korean.returncode == exitcodes.CONFIG
    assert "설정 파일이 올바르지 않습니다" in korean.stderr
    assert f":{ip_line}: core-sw-01: address: '10.0.0.999' — IP 주소 형식이 아닙니다." in korean.stderr
    assert "없는 장소 'goverment-009'입니다. 'government-009'을(를) 쓰려던 것입니까?" in korean.stderr
    english = nms("--config", str(config), "config", "check", "--lang", "en", env={"LANG": "ko_KR.UTF-8"})
    assert "invalid configuration" in english.stderr and "설정" not in english.stderr
    # LC_ALL wins over LANG, as POSIX orders them.
    assert "invalid configuration" in nms("--config", str(config), "config", "check",
                                          env={"LANG": "ko_KR.UTF-8", "LC_ALL": "en_US.UTF-8"}).stderr
    ok = nms("config", "check", env={"LANG": "ko_KR.UTF-8"})
    assert ok.returncode == 0 and "이상 없음" in ok.stdout and "확인한 파일" in ok.stdout


def test_language_from_the_environment() -> None:
    assert language_from_environment({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert language_from_environment({"LANG": "en_US.UTF-8"}) == "en"
    assert language_from_environment({}) == "en"
    assert language_from_environment({"LANG": "ko_KR.UTF-8", "LC_MESSAGES": "C"}) == "en"
    assert language_from_environment({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}) == "ko"


@pytest.mark.parametrize(("text", "line"), [
    ("sites:\n  - id: a\n    name b\n  - id: c\n", 3),  # a key without ':' is only noticed a line later
    ('a: 1\nb: "unclosed\nc: 3\n', 2),                # an unclosed quote: where it opens
    ("a: [1, 2\nb: 3\n", 1),                          # an unclosed bracket: where it opens
    ("a: 1\n b: 2\n", 2),
])
def test_yaml_syntax_errors_point_at_the_line_to_fix(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml_text(text, "f.yaml")
    [problem] = info.value.problems
    assert problem.line == line, str(problem)
    assert "malformed YAML" in str(problem)


def test_unknown_profile_and_credentials_suggest_the_closest(tmp_path: Path) -> None:
    for name in ("nms.yaml", "inventory.yaml", "snmp.yaml", "ivr.yaml"):
        shutil.copy(REPO / "configs" / name, tmp_path / name)
    text = (tmp_path / "inventory.yaml").read_text(encoding="utf-8")
    text = text.replace("profile: switch", "profile: swtich", 1).replace("credentials: district-v2c",
                                                                         "credentials: district-v2", 1)
    (tmp_path / "inventory.yaml").write_text(text, encoding="utf-8")
    done = nms("--config", str(tmp_path / "nms.yaml"), "config", "check", env={"LANG": "C"})
    assert "profile: unknown SNMP profile 'swtich'" in done.stderr and "did you mean 'switch'?" in done.stderr
    assert "did you mean 'district-v2c'?" in done.stderr


def test_one_catalogue_for_page_cli_and_lab() -> None:
    from lab.state import LabState
    from nms.admin import i18n as page

    assert page.CATALOG is CATALOG and page.translate("v_ip", "en") == CATALOG["v_ip"][1]
    for msg_id, (ko, en) in CATALOG.items():
        assert ko and en, msg_id
        assert set(re.findall(r"{(\w+)", ko)) == set(re.findall(r"{(\w+)", en)), msg_id
    assert callable(LabState.describe)
    for msg_id in ("lab_head", "lab_agent", "cli_invalid_config", "cfg_yaml", "did_you_mean"):
        assert msg_id in CATALOG
