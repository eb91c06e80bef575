"""Publishing: the CI workflow (which cannot run here) is checked for what it must do, and
``make publish``'s ghp-import is run for real into a throw-away git repository."""
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _uses(job: dict, action: str) -> list[dict]:
    return [s for s in _steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def test_workflow_builds_on_push_to_main_with_the_readme_command():
    wf = _workflow()
    assert wf["on"]["push"]["branches"] == ["main"]
    build = wf["jobs"]["build"]
    assert build["runs-on"] == "ubuntu-latest", "a CPU runner"
    assert _uses(build, "actions/checkout") and _uses(build, "actions/setup-python")
    python = _uses(build, "actions/setup-python")[0]["with"]["python-version"]
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert tuple(map(int, python.split("."))) >= tuple(map(int, required.lstrip(">=").split(".")))
    commands = [s["run"].strip() for s in _steps(build) if "run" in s]
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme
    # The README's command; the published book adds three training seeds (issue 16).
    assert any(re.fullmatch(r'make book( PROFILE=smoke)? BOOK_ARGS="--seeds 0,1,2"', c)
               for c in commands), commands
    order = [s.get("uses", s.get("run", "")).split("@")[0] for s in _steps(build)]
    built = order.index(next(c for c in order if c.startswith("make book")))
    tools = order.index("make install-test")
    checked = order.index(next(c for c in order if "tests/test_browser.py" in c))
    assert built < tools < checked < order.index("actions/upload-pages-artifact"), \
        "build, install pytest (the test extra), check in a browser, then upload"
    assert "EMO_BOOK_HTML=_build/html" in order[checked]


def test_workflow_builds_the_launch_buttons_for_its_own_repository():
    """The book's Binder/Colab buttons open this repository's notebooks on the branch built."""
    step = next(s for s in _steps(_workflow()["jobs"]["build"])
                if s.get("run", "").startswith("make book"))
    assert step["env"] == {"EMO_BOOK_REPOSITORY": "${{ github.repository }}",
                           "EMO_BOOK_BRANCH": "${{ github.ref_name }}"}


def test_workflow_deploys_build_html_with_the_pages_actions():
    wf = _workflow()
    upload = _uses(wf["jobs"]["build"], "actions/upload-pages-artifact")
    assert len(upload) == 1 and upload[0]["with"]["path"] == "_build/html"
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and _uses(deploy, "actions/deploy-pages")
    assert deploy["environment"]["name"] == "github-pages"
    # upload-pages-artifact needs to read the repository; deploy-pages needs to write Pages and
    # to prove who it is with an OIDC token; nothing else gets either.
    assert wf["permissions"] == {}
    assert wf["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_make_publish_pushes_build_html_with_ghp_import():
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "-o", ".venv/.installed-book", "publish"], cwd=ROOT,
                         capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"ghp-import -n -p -f _build/html\s*$", dry.stdout, re.M), dry.stdout


def test_ghp_import_puts_the_book_on_gh_pages(tmp_path):
    """What `make publish` runs, without the push, into a fresh repository: the branch holds the
    book at its root and .nojekyll (else GitHub Pages would hide _static/)."""
    ghp_import = Path(sys.executable).parent / "ghp-import"
    if not (ghp_import.exists() and shutil.which("git")):
        pytest.skip("ghp-import or git is not installed")
    repo = tmp_path / "repo"
    html = repo / "_build" / "html"
    (html / "_static").mkdir(parents=True)
    (html / "index.html").write_text("<meta http-equiv='Refresh' content='0; url=book/intro.html'>")
    (html / "_static" / "theme.css").write_text("body {}")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("x")
    subprocess.run(git + ["-C", str(repo), "add", "README.md"], check=True)
    subprocess.run(git + ["-C", str(repo), "commit", "-qm", "init"], check=True)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "PATH": str(Path(shutil.which("git")).parent)}
    subprocess.run([str(ghp_import), "-n", "-f", "_build/html"], cwd=repo, env=env, check=True)
    files = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "gh-pages"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == [".nojekyll", "_static/theme.css", "index.html"]
