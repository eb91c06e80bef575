"""One source per notebook (emo_lib/notebook_sources.py): the generated Colab cell is in every
source as generated (tests/test_notebooks.py checks each .ipynb against its source); it does
nothing where emo_lib is installed, and where it is missing it installs the project from the
repository for real, in a fresh environment, and the notebook goes on from the clone."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

from emo_lib import notebook_sources as ns

ROOT = Path(__file__).resolve().parent.parent
TITLE = "# %% [markdown]\n# # Title\n#\n# Text.\n\n"
REST = '# %% tags=["parameters"]\nseed = 0  # seed\n\n# %%\nprint(seed)\n'


def _code(repo: str) -> str:
    return ns.install_cell(repo).split("\n", 1)[1]


def test_the_cell_goes_after_the_title_and_is_refreshed_in_place():
    once = ns.with_install_cell(TITLE + REST, "https://example.org/a")
    assert once.startswith(TITLE + ns.CELL_MARKER)
    assert once.endswith(REST)
    assert ns.with_install_cell(once, "https://example.org/a") == once, "idempotent"
    twice = ns.with_install_cell(once, "https://example.org/b")
    assert twice.count(ns.CELL_MARKER) == 1 and '"https://example.org/b"' in twice
    nb = jupytext.reads(twice, fmt="py:percent")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code", "code"]
    assert nb.cells[1].metadata["tags"] == ["remove-cell", ns.CELL_TAG]
    with pytest.raises(ValueError, match="no `# %%`"):
        ns.with_install_cell("x = 1\n", "")


def test_every_source_carries_the_generated_cell():
    assert ns.sources(), "no notebook sources"
    stale = [p.name for p in ns.stale_sources()]
    assert not stale, f"out of step: {stale}; run `make notebooks`"
    for src in ns.sources():
        nb = jupytext.read(src)
        tagged = [i for i, c in enumerate(nb.cells) if ns.CELL_TAG in c.metadata.get("tags", [])]
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        assert tagged == [first_code], f"{src.name}: the generated cell is the first code cell"
        assert "remove-cell" in nb.cells[first_code].metadata["tags"], "hidden on the page"


def test_the_cell_names_the_repository_of_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.emo-book]\nrepository = "https://github.com/octo/emo-book"\n')
    assert ns.repository(tmp_path / "pyproject.toml") == "https://github.com/octo/emo-book"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert ns.repository(tmp_path / "pyproject.toml") == ""


def test_the_cell_does_nothing_where_emo_lib_is_installed(tmp_path):
    code = _code("https://example.org/never-cloned")
    done = subprocess.run([sys.executable, "-c", code + "\nimport os; print(os.getcwd())"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path) and not (tmp_path / "emo-book").exists()


def _fresh_environment(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A virtual environment that sees this one's packages (as Colab has its own) but not
    emo_lib: the editable install of this checkout is not among them."""
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    parent = next(p for p in sys.path if p.endswith("site-packages"))
    (site / "_base_env.pth").write_text(parent + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env_dir / "bin" / "python", env


def test_without_a_repository_the_cell_says_how_to_install(tmp_path):
    python, env = _fresh_environment(tmp_path)
    done = subprocess.run([str(python), "-c", _code("")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "names no repository" in done.stderr and "pip install -e ." in done.stderr


@pytest.mark.slow
def test_where_emo_lib_is_missing_the_cell_installs_the_project_for_real(tmp_path):
    """As on Colab: the cell clones the repository (here a local git repository holding this
    project), installs it at the lock's versions, and the notebook's next cells import emo_lib
    from the clone, running in its notebooks/ folder."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    repo = tmp_path / "origin"
    repo.mkdir()
    for item in ("pyproject.toml", "README.md", "requirements-lock.txt",
                 "requirements-nodeps.txt"):
        shutil.copy2(ROOT / item, repo / item)
    for folder in ("emo_lib", "notebooks"):
        shutil.copytree(ROOT / folder, repo / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "project"], check=True)
    python, env = _fresh_environment(tmp_path)
    work = tmp_path / "content"           # Colab's working folder
    work.mkdir()
    after = "import emo_lib, os; print(emo_lib.__file__); print(os.getcwd())"
    done = subprocess.run([str(python), "-c", _code(repo.as_uri()) + "\n" + after], cwd=work,
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    *_, where, cwd = done.stdout.split("\n")[:-1]
    checkout = work / "emo-book"
    assert Path(where).resolve().is_relative_to(checkout.resolve()), where
    assert Path(cwd) == checkout / "notebooks"
    # Run again (a restarted session): emo_lib is found, nothing is cloned or installed again.
    again = subprocess.run([str(python), "-c", _code(repo.as_uri()) + "\n" + after],
                           cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == str(work), "the cell did nothing the second time"
