"""The docs cannot rot: their examples run here.

In every page of docs/, each ```sh block runs in bash against a real emulator-mode server
(``$BASE`` is its URL; shell variables carry over from block to block within a page); a ```json
block after it must match its output (a ```text block: exactly). ```python blocks run in
process. In expected JSON, the string "..." matches any value, a trailing "..." item allows more
array items, and a "...": "..." member allows more object members.

Also checked: every setting, CLI command and Connector API error code is documented.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdehub.settings import SETTINGS
from tests.conftest import LiveServer

DOCS = Path(__file__).parent.parent / "docs"
BLOCK = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
PAGES = sorted(p for p in DOCS.glob("*.md"))
ANY = "..."


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(page.read_text())]


def matches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Differences between an expected JSON value (with "..." wildcards) and an actual one."""
    if expected == ANY:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        loose = expected.get(ANY) == ANY
        problems = []
        for key, value in expected.items():
            if key == ANY:
                continue
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += matches(value, actual[key], f"{where}.{key}")
        extra = set(actual) - set(expected)
        if extra and not loose:
            problems.append(f"{where}: unexpected members {sorted(extra)}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected an array, got {actual!r}"]
        loose = bool(expected) and expected[-1] == ANY
        items = expected[:-1] if loose else expected
        if len(actual) < len(items) or (not loose and len(actual) != len(items)):
            return [f"{where}: expected {len(items)} items, got {len(actual)}"]
        return [p for i, e in enumerate(items) for p in matches(e, actual[i], f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(
    page: Path, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.sh"
    bin_dir = Path(sys.executable).parent
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    state.write_text(
        f"export BASE={live_server.base}\nexport WORK={tmp_path}\nexport PATH={bin_dir}:$PATH\n"
    )
    found = blocks(page)
    namespace: dict[str, Any] = {"BASE": live_server.base, "DB": live_server.db, "WORK": tmp_path}
    for i, (lang, code) in enumerate(found):
        if lang == "python":
            exec(compile(code, f"{page.name}#block{i}", "exec"), namespace)
        if lang != "sh":
            continue
        script = f"set -euo pipefail\nset -a\nsource {state}\n{code}\nexport -p > {state}\n"
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{page.name} block {i} failed:\n{code}\n{done.stderr}"
        following = found[i + 1][0] if i + 1 < len(found) else None
        if following == "json":
            expected = json.loads(found[i + 1][1])
            actual = json.loads(done.stdout)
            problems = matches(expected, actual)
            assert not problems, f"{page.name} block {i}:\n{code}\n" + "\n".join(problems)
        elif following == "text":
            assert done.stdout.strip() == found[i + 1][1].strip(), f"{page.name} block {i}"


def test_every_page_has_runnable_examples() -> None:
    for page in PAGES:
        if page.name in ("index.md", "benchmarks.md"):
            continue
        assert any(lang in ("sh", "python") for lang, _ in blocks(page)), page.name


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in text, setting.name
        assert f"SDEHUB_{setting.name.upper()}" in text, setting.name


def test_every_cli_command_is_documented() -> None:
    from click import Group

    from sdehub.cli import main

    text = (DOCS / "cli.md").read_text()

    def walk(group: Group, prefix: str) -> list[str]:
        names = []
        for name, command in group.commands.items():
            names.append(f"{prefix}{name}")
            if isinstance(command, Group):
                names += walk(command, f"{prefix}{name} ")
        return names

    for command in walk(main, "sdehub "):
        assert f"`{command}" in text, command


def test_every_connector_error_code_is_documented() -> None:
    text = (DOCS / "connector-api.md").read_text()
    for code in ("40000", "40001", "40102", "40103", "40104", "40105", "42900"):
        assert code in text, code


def test_matcher_wildcards() -> None:
    assert matches({"a": ANY, ANY: ANY}, {"a": 1, "b": 2}) == []
    assert matches({"a": 1}, {"a": 1, "b": 2}) != []
    assert matches([1, ANY], [1, 2, 3]) == []
    assert matches([1, 2], [1]) != []
    assert matches({"a": [{"b": "x"}]}, {"a": [{"b": "y"}]}) == ["$.a[0].b: expected 'x', got 'y'"]
