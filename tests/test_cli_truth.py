"""Commands that tell the truth (issue 13): one rule for options, every file checked, validation before
secrets, a quiet closed pipe, distinct exit codes, shell completion, --version."""

from __future__ import annotations

import argparse
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nms import __version__, exitcodes
from nms.cli import GLOBAL_OPTIONS, build_parser, command_paths, subparsers_of

REPO = Path(__file__).resolve().parent.parent


def nms(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    exe = shutil.which("nms", path=str(Path(sys.executable).parent))
    assert exe, "the nms entry point is not installed in this venv: run `make setup`"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, env=env, **kw)


def copy_configs(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("nms.yaml", "inventory.yaml", "snmp.yaml", "ivr.yaml"):
        shutil.copy(REPO / "configs" / name, directory / name)
    return directory / "nms.yaml"


# -- one rule for options ----------------------------------------------------------------------------
def _parser_at(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in path:
        parser = subparsers_of(parser)[word]
    return parser


def _required(parser: argparse.ArgumentParser) -> list[str]:
    """Values for the required arguments of one parser level (positionals, then required options)."""
    out: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        value = str(next(iter(action.choices))) if action.choices else "x"
        if not action.option_strings and action.nargs != 0:
            out.append(value)
        elif action.required:
            out += [action.option_strings[-1], value]
    return out


def leaf_paths() -> list[tuple[str, ...]]:
    paths = command_paths(build_parser())
    return [p for p in paths if not subparsers_of(_parser_at(p)) or not any(
        isinstance(a, argparse._SubParsersAction) and a.required for a in _parser_at(p)._actions)]


GIVEN = {"--config": "/srv/a/nms.yaml", "--secrets-dir": "/srv/secrets", "--log-level": "debug", "--lang": "ko"}


def _argv(path: tuple[str, ...], where: int) -> list[str]:
    """The command with the global options inserted after ``where`` words of the path."""
    words: list[str] = []
    for i, word in enumerate(path):
        words.append(word)
        words += _required(_parser_at(path[: i + 1])) if i == len(path) - 1 else []
    options = [x for k, v in GIVEN.items() for x in (k, v)]
    if where >= len(path):
        return words + options
    cut = words.index(path[where - 1]) + 1 if where else 0
    return words[:cut] + options + words[cut:]


@pytest.mark.parametrize("path", leaf_paths(), ids=lambda p: " ".join(p))
def test_global_options_mean_the_same_at_every_level(path: tuple[str, ...]) -> None:
    seen = []
    for where in range(len(path) + 1):
        argv = _argv(path, where)
        args = build_parser().parse_args(argv)
        got = {o: getattr(args, o.lstrip("-").replace("-", "_")) for o in GLOBAL_OPTIONS}
        assert got == GIVEN, (argv, got)
        seen.append(argv)
    assert len(seen) >= 2


def test_every_command_is_covered_by_the_placement_test() -> None:
    top = set(subparsers_of(build_parser()))
    assert {p[0] for p in leaf_paths()} == top
    assert ("ivr", "render") in leaf_paths() and ("inventory", "list") in leaf_paths()


def test_ivr_render_reads_the_ivr_yaml_that_the_given_nms_yaml_names(tmp_path: Path) -> None:
    """Both placements that used to render the repository's configs/ivr.yaml instead."""
    config = copy_configs(tmp_path / "other")
    ivr = yaml.safe_load((tmp_path / "other" / "ivr.yaml").read_text(encoding="utf-8"))
    ivr["lines"] = 7
    (tmp_path / "other" / "renamed-ivr.yaml").write_text(yaml.safe_dump(ivr, allow_unicode=True), encoding="utf-8")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["ivr"]["config"] = "renamed-ivr.yaml"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "NMS_SECRET_AMI": "a", **{f"NMS_SECRET_SIP_{p['extension']}": "p"
                                                              for p in ivr["sip"]["phones"]}}
    for argv in (["ivr", "--config", str(config), "render"], ["--config", str(config), "ivr", "render"],
                 ["ivr", "render", "--config", str(config)]):
        out = tmp_path / ("out-" + "-".join(a for a in argv if not a.startswith("/")))
        done = nms(*argv, "--out", str(out), env=env)
        assert done.returncode == 0, done.stderr
        assert "NMS_LINES=7\n" in (out / "extensions.conf").read_text(encoding="utf-8"), argv


# -- every file checked, every problem listed ------------------------------------------------------
def test_config_check_reads_ivr_yaml(tmp_path: Path) -> None:
    config = copy_configs(tmp_path)
    text = (tmp_path / "ivr.yaml").read_text(encoding="utf-8")
    (tmp_path / "ivr.yaml").write_text(text.replace("lines: 60", "lines: sixty", 1), encoding="utf-8")
    done = nms("--config", str(config), "config", "check")
    assert done.returncode == exitcodes.CONFIG, done.stdout + done.stderr
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("lines: 60"))
    assert f"{tmp_path / 'ivr.yaml'}:{line}:" in done.stderr
    assert "OK" not in done.stdout


def test_config_check_lists_problems_of_several_files_in_one_run(tmp_path: Path) -> None:
    config = copy_configs(tmp_path)
    inv = (tmp_path / "inventory.yaml").read_text(encoding="utf-8")
    (tmp_path / "inventory.yaml").write_text(inv.replace("profile: switch", "profile: swtich", 1), encoding="utf-8")
    ivr = (tmp_path / "ivr.yaml").read_text(encoding="utf-8")
    (tmp_path / "ivr.yaml").write_text(ivr.replace("lines: 60", "lines: sixty", 1), encoding="utf-8")
    snmp = (tmp_path / "snmp.yaml").read_text(encoding="utf-8")
    (tmp_path / "snmp.yaml").write_text(snmp.replace("auth_protocol: SHA", "auth_protocol: SHA9", 1),
                                        encoding="utf-8")
    done = nms("--config", str(config), "config", "check")
    assert done.returncode == exitcodes.CONFIG
    for name in ("ivr.yaml", "snmp.yaml", "inventory.yaml"):
        assert f"{tmp_path / name}:" in done.stderr, (name, done.stderr)


def test_config_check_names_every_file_it_read() -> None:
    done = nms("config", "check")
    assert done.returncode == 0, done.stderr
    for name in ("nms.yaml", "inventory.yaml", "snmp.yaml", "ivr.yaml"):
        assert f"checked {REPO / 'configs' / name}" in done.stdout


# -- validate before asking for secrets -----------------------------------------------------------
def test_ivr_render_validates_before_it_looks_for_secrets(tmp_path: Path) -> None:
    config = copy_configs(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "NMS_SECRETS_DIR": str(tmp_path / "no-secrets")}
    text = (tmp_path / "ivr.yaml").read_text(encoding="utf-8")
    (tmp_path / "ivr.yaml").write_text(text.replace("lines: 60", "lines: sixty", 1), encoding="utf-8")
    done = nms("--config", str(config), "ivr", "render", "--out", str(tmp_path / "out"), env=env)
    assert done.returncode == exitcodes.CONFIG, done.stderr
    assert "secret" not in done.stderr.lower()
    # Valid configuration, no secrets: every missing one is named at once, nothing is written.
    (tmp_path / "ivr.yaml").write_text(text, encoding="utf-8")
    done = nms("--config", str(config), "ivr", "render", "--out", str(tmp_path / "out"), env=env)
    assert done.returncode == exitcodes.SECRET, done.stderr
    assert "'ami'" in done.stderr and "'sip-2301'" in done.stderr and "'sip-2304'" in done.stderr
    assert not (tmp_path / "out").exists()


# -- pipes, exit codes, completion, version -------------------------------------------------------
def test_a_closed_pipe_ends_quietly() -> None:
    exe = shutil.which("nms", path=str(Path(sys.executable).parent))
    # --json: more than a pipe buffer (64 KiB), so the writer meets the closed pipe for certain
    proc = subprocess.Popen([exe, "inventory", "list", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    _, err = proc.communicate(timeout=60)
    assert first
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == exitcodes.OUTPUT_CLOSED


def test_exit_codes_are_distinct_and_documented() -> None:
    codes = {name: value for name, value in vars(exitcodes).items() if name.isupper() and isinstance(value, int)}
    assert len(set(codes.values())) == len(codes)
    assert codes["CONFIG"] != codes["USAGE"]
    help_text = nms("--help").stdout
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for value in codes.values():
        assert f"  {value} " in help_text, value
        assert f"| {value} |" in readme, value
    assert nms("no-such-command").returncode == exitcodes.USAGE


def test_missing_secret_has_its_own_exit_code(tmp_path: Path) -> None:
    config = copy_configs(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "NMS_SECRETS_DIR": str(tmp_path / "none")}
    done = nms("--config", str(config), "collect", "--once", env=env)
    assert done.returncode == exitcodes.SECRET, done.stdout + done.stderr
    assert "district-v2c" in done.stderr and "Traceback" not in done.stderr


def test_bash_completion_completes_commands_options_and_values(tmp_path: Path) -> None:
    script = tmp_path / "nms.bash"
    done = nms("completion", "bash")
    assert done.returncode == 0
    script.write_text(done.stdout, encoding="utf-8")

    def complete(*words: str) -> list[str]:
        quoted = " ".join(f"'{w}'" for w in words)
        out = subprocess.run(["bash", "-c", f"source {script}; COMP_WORDS=(nms {quoted}); "
                              f"COMP_CWORD={len(words)}; _nms; printf '%s\\n' \"${{COMPREPLY[@]}}\""],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    assert complete("inv") == ["inventory"]
    assert {"summary", "list", "import-netbox", "--config"} <= set(complete("inventory", ""))
    assert complete("inventory", "list", "--role", "") == ["backbone", "access", "ips", "ap", "host"]
    assert "render" in complete("--config", "x.yaml", "ivr", "")
    assert complete("ba") == ["backup"]


def test_version_is_the_package_version() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    done = nms("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"nms {cfg['metadata']['version']}" == f"nms {__version__}"
