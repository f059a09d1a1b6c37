"""What an install brings: bounded ranges, one set of exact versions for every install, nothing of the
first run's (fakeredis, time-machine) in a production process, and gunicorn without its control socket."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dispatch.runtime import connect_redis
from dispatch.settings import PROJECT_ROOT, SettingsError

FIRST_RUN = {"fakeredis", "time-machine"}


def project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]


def pins() -> dict[str, str]:
    found = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            found[canonicalize_name(name)] = version
    return found


def test_every_runtime_dependency_has_an_upper_bound():
    requirements = [Requirement(text) for text in project()["dependencies"]]
    for extra in project()["optional-dependencies"].values():
        requirements += [Requirement(text) for text in extra if not text.startswith("dispatch[")]
    for requirement in requirements:
        assert any(spec.operator in {"<", "<=", "==", "~="} for spec in requirement.specifier), requirement


def test_first_run_packages_are_an_extra_not_a_runtime_dependency():
    runtime = {canonicalize_name(Requirement(text).name) for text in project()["dependencies"]}
    assert not runtime & FIRST_RUN
    first_run = {
        canonicalize_name(Requirement(text).name) for text in project()["optional-dependencies"]["first-run"]
    }
    assert first_run == FIRST_RUN
    assert "dispatch[first-run]" in project()["optional-dependencies"]["test"]


def _closure(names: list[Requirement]) -> set[str]:
    """Every distribution the requirements bring in, through the installed packages' own metadata."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        extras = requirement.extras
        for text in metadata.requires(requirement.name) or []:
            child = Requirement(text)
            if child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in extras or {""}
            ):
                todo.append(child)
    return seen


def test_the_installed_versions_are_the_pinned_ones():
    """Everything dispatch[test] needs is pinned in constraints.txt, and installed at that version."""
    pinned = pins()
    wanted = [Requirement(text) for text in project()["dependencies"]]
    for extra in project()["optional-dependencies"].values():
        wanted += [Requirement(text) for text in extra if not text.startswith("dispatch[")]
    needed = _closure(wanted)
    assert not needed - pinned.keys(), "not pinned in constraints.txt: " + ", ".join(
        sorted(needed - pinned.keys())
    )
    for name in sorted(needed):
        assert metadata.version(name) == pinned[name], (
            f"{name} {metadata.version(name)} installed, {pinned[name]} pinned"
        )


def test_a_production_process_imports_nothing_of_the_first_run(tmp_path):
    code = (
        "import sys\n"
        "import dispatch.wsgi, dispatch.worker, dispatch.cli, dispatch.tasks\n"
        "found = sorted(name for name in ('fakeredis', 'time_machine', 'lupa') if name in sys.modules)\n"
        "print(','.join(found))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6399/0",  # never connected to: creating the app does not ping
        "DISPATCH_ENV": "development",
        "SPOOL_DIR": str(tmp_path / "spool"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"a production process imported {result.stdout.strip()}"


def test_the_embedded_redis_without_the_first_run_extra_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fakeredis", None)  # as if not installed
    with pytest.raises(SettingsError, match=re.escape("'.[first-run]'")):
        connect_redis("embedded")


def test_simulate_without_the_first_run_extra_says_what_to_install():
    code = (
        "import sys\n"
        "sys.modules['time_machine'] = None\n"
        "sys.modules['fakeredis'] = None\n"
        "from dispatch.cli import main\n"
        "sys.exit(main(['simulate', '--workers', '5']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "first-run" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_gunicorn_opens_no_control_socket():
    from gunicorn.config import Config

    assert "control_socket_disable" in Config().settings  # the name gunicorn knows
    settings = runpy.run_path(str(PROJECT_ROOT / "config" / "gunicorn.conf.py"))
    assert settings["control_socket_disable"] is True
