"""The GitHub workflows, which never run here, checked statically: actionlint and zizmor (offline)
find nothing; every action is pinned by full commit SHA with a release comment whose major runs
on Node 24; checkouts keep no credentials; permissions are granted per job; a pull request runs
the linters, the doctests and the fast tests (what `make test` runs, slow tests left out)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
#: `uses: owner/name@<commit> # v<release>`
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})"
                    r" # (?P<version>v\d+[\w.]*)$")


def _tool(name: str) -> str:
    exe = BIN / name
    if not exe.exists():
        pytest.fail(f"{name} is not installed in {BIN}: `make test` installs it (the test extra "
                    f"of pyproject.toml)")
    return str(exe)


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))   # YAML 1.1 reads the key `on` as True
    return data


def _uses_lines(path: Path) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$",
                                                    path.read_text(), re.M)]


def _actionlint(folder: Path) -> subprocess.CompletedProcess:
    files = sorted(str(p) for p in (folder / ".github" / "workflows").glob("*.yml"))
    return subprocess.run([_tool("actionlint"), "-no-color", *files], cwd=folder,
                          capture_output=True, text=True, timeout=120)


def _at_release_major(text: str) -> str:
    """Each pinned `uses:` rewritten to the major its comment names (`@v7`), which actionlint
    knows the runtime of (it cannot know a commit's)."""
    return re.sub(r"@[0-9a-f]{40} # (v\d+)[\w.]*", r"@\1", text)


def test_there_are_the_two_workflows():
    assert [p.name for p in WORKFLOWS] == ["book.yml", "tests.yml"]


def test_actionlint_finds_nothing():
    done = _actionlint(ROOT)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_zizmor_offline_finds_nothing():
    done = subprocess.run([_tool("zizmor"), "--offline", "--no-progress",
                           str(ROOT / ".github" / "workflows")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_a_release_comment(path):
    uses = _uses_lines(path)
    assert uses
    for use in uses:
        assert PINNED.match(use), \
            f"{path.name}: `uses: {use}` is not `action@<40-hex sha> # vX.Y.Z`"


def test_the_pinned_releases_run_on_node_24(tmp_path):
    """actionlint on the workflows with each pin at its comment's major: no deprecated runtime.
    And the same check on a Node 20 release does fail (the check can see what it looks for)."""
    folder = tmp_path / "at_majors" / ".github" / "workflows"
    folder.mkdir(parents=True)
    for path in WORKFLOWS:
        (folder / path.name).write_text(_at_release_major(path.read_text()))
    done = _actionlint(tmp_path / "at_majors")
    assert done.returncode == 0, done.stdout + done.stderr

    old = tmp_path / "old" / ".github" / "workflows"
    old.mkdir(parents=True)
    (old / "old.yml").write_text(_at_release_major(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"))
    done = _actionlint(tmp_path / "old")
    assert done.returncode != 0 and "node20" in done.stdout, done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_permissions_and_no_persisted_credentials(path):
    wf = _load(path)
    assert wf["permissions"] == {}, "nothing granted at the workflow level"
    for name, job in wf["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{name}: declares its own permissions"
        assert "write" not in job["permissions"].values() or name == "deploy", \
            f"{name}: only the deploy job writes"
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, \
                    f"{name}: checkout must not persist credentials"


def test_pull_requests_run_linters_doctests_and_the_fast_tests():
    wf = _load(ROOT / ".github" / "workflows" / "tests.yml")
    assert "pull_request" in wf["on"]
    (job,) = wf["jobs"].values()
    runs = [s["run"].strip() for s in job["steps"] if "run" in s]
    assert runs == ["make test PYTEST_ARGS='-m \"not slow\"'"], runs
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    # --no-print-directory: under `make test` this make is a sub-make, which would announce
    # its directory.
    dry = subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.installed-test",
                          "test",
                          "PYTEST_ARGS=-m 'not slow'"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [".venv/bin/ruff check .",
                                       ".venv/bin/pytest -q --doctest-modules emo_lib",
                                       ".venv/bin/pytest -m 'not slow'"], dry.stdout
