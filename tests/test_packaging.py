"""Packaging: environment.yml agrees with pyproject.toml; the public API is what it says."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import recovery

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _split(req: str) -> tuple[str, str]:
    req = req.split(";")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")


def test_environment_yml_matches_pyproject():
    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {}
    for req in project["dependencies"]:
        if "python_version<" in req.replace(" ", ""):
            continue  # back-ports for old Pythons only
        name, spec = _split(req)
        wanted[name] = spec
    for group in project["optional-dependencies"].values():
        for req in group:
            name, spec = _split(req)
            if name != "recovery":
                wanted[name] = spec
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")):
            name, spec = _split(dep)
            listed[name] = spec
    assert listed == wanted


def test_public_api_is_importable_and_documented():
    assert recovery.__all__, "recovery.__all__ must list the public API"
    assert len(set(recovery.__all__)) == len(recovery.__all__)
    assert {"case_file", "case_files", "load_customer"} <= set(recovery.__all__)
    for name in recovery.__all__:
        obj = getattr(recovery, name)
        if name != "__version__":
            assert obj.__doc__, f"recovery.{name} has no docstring"


def test_no_pickle_in_the_package():
    src = ROOT / "src" / "recovery"
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+(pickle|joblib|cloudpickle|dill)\b", p.read_text(), re.M)
        or "pd.read_pickle" in p.read_text()
    ]
    assert offenders == []


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_cli_help_and_version(args, capsys):
    from recovery.cli import main

    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("validate" in out) if args == ["--help"] else (recovery.__version__ in out)


def test_data_contract_doc_is_generated_from_the_schema():
    from recovery.data.schema import contract_markdown

    doc = (ROOT / "docs" / "data.md").read_text()
    body = doc.split("<!-- contract:begin -->\n")[1].split("<!-- contract:end -->")[0]
    assert body == contract_markdown(), "regenerate docs/data.md from recovery.data.schema"


def test_the_projects_own_warnings_are_errors_in_the_tests():
    """pyproject's filterwarnings turns a warning raised from recovery into an error."""
    import recovery.progress as module

    with pytest.raises(UserWarning, match="from the package"):
        exec("import warnings\nwarnings.warn('from the package')", vars(module))


def test_progress_bars_count_the_users_units_and_stay_quiet_off_a_terminal(capsys):
    from recovery.progress import accounts_progress, progress_bar

    # the tests' output is not a terminal: no bar is drawn
    assert progress_bar(total=3, desc="analyze", unit="steps").disable
    assert list(accounts_progress([["A1", "A2"], ["A3"]], "snapshots")) == [["A1", "A2"], ["A3"]]
    assert capsys.readouterr().err == ""
    # on a terminal the bar counts accounts, not partitions
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    for _ in accounts_progress([["A1", "A2"], ["A3"]], "snapshots", file=screen):
        pass
    assert "3/3" in screen.getvalue() and "accounts" in screen.getvalue()
    assert "partition" not in screen.getvalue()
