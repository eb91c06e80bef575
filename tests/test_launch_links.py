"""Launch buttons (emo_lib/launch_links.py): built for real with jupyter-book and the book's own
_config.yml, each executed page's Binder and Colab links open that page's notebooks/<name>.ipynb
of the repository the build environment names; a build without one shows none; the notebook a
reader downloads from a page is the executed copy, its injected parameters included."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from emo_lib import launch_links
from emo_lib.layout import book_notebooks

ROOT = Path(__file__).resolve().parent.parent
REPO = "octo/emo-book"
_HREF = re.compile(r'href="([^"]+)"')


def expected_links(name: str, repo: str = REPO, branch: str = "main") -> dict[str, str]:
    """The Binder and Colab links of page ``executed/<name>`` (the providers of _config.yml)."""
    path = f"notebooks/{name}.ipynb"
    return {"binder": f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/{path}",
            "colab": f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"}


def launch_hrefs(page: Path) -> list[str]:
    """The page's links to a launch provider."""
    return sorted({h.replace("&amp;", "&") for h in _HREF.findall(page.read_text())
                   if "mybinder.org" in h or "colab.research.google.com" in h})


# --- the pieces ---------------------------------------------------------------------------------

def test_repository_url_forms():
    assert launch_links.repository_url("octo/emo-book") == "https://github.com/octo/emo-book"
    assert launch_links.repository_url("https://github.com/octo/emo-book.git/") == \
        "https://github.com/octo/emo-book"
    assert launch_links.repository_url("") == launch_links.repository_url(None) == ""
    with pytest.raises(ValueError, match="owner/name"):
        launch_links.repository_url("emo-book")


def test_configure_takes_the_repository_from_the_environment_or_removes_the_buttons():
    config = {"launch_buttons": {"notebook_interface": "jupyterlab",
                                 "binderhub_url": "https://mybinder.org",
                                 "colab_url": "https://colab.research.google.com"}}
    with_repo = {**config, "launch_buttons": dict(config["launch_buttons"])}
    assert launch_links.configure(with_repo, {"EMO_BOOK_REPOSITORY": REPO,
                                              "EMO_BOOK_BRANCH": "pages"})
    assert with_repo["repository_url"] == f"https://github.com/{REPO}"
    assert with_repo["repository_branch"] == "pages" and with_repo["use_repository_button"]
    assert with_repo["launch_buttons"]["colab_url"] == "https://colab.research.google.com"

    without = {**config, "launch_buttons": dict(config["launch_buttons"])}
    assert not launch_links.configure(without, {})
    assert without["launch_buttons"] == {"notebook_interface": "jupyterlab"}
    assert "repository_url" not in without


def test_repoint_rewrites_the_executed_copy_and_reports_other_links():
    buttons = [{"label": "download-buttons", "buttons": [
                   {"type": "link", "url": "_sources/executed/alpha.ipynb"}]},
               {"label": "launch-buttons", "buttons": [
                   {"type": "link", "text": "Binder",
                    "url": "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/executed/alpha.ipynb"},
                   {"type": "link", "text": "Colab", "url": "https://colab/o/r/blob/main/alpha.md"},
                   {"type": "javascript", "javascript": "initThebeSBT()"}]}]
    problems = launch_links.repoint("executed/alpha", buttons)
    assert buttons[1]["buttons"][0]["url"].endswith("urlpath=lab/tree/notebooks/alpha.ipynb")
    assert problems == ["executed/alpha: the Colab link https://colab/o/r/blob/main/alpha.md "
                        "does not name executed/alpha.ipynb"]
    assert buttons[0]["buttons"][0]["url"] == "_sources/executed/alpha.ipynb", "download kept"
    assert launch_links.repoint("book/intro", buttons) == []


# --- a real build of a two-page book with the book's _config.yml --------------------------------

def _fake_book(root: Path) -> Path:
    """The book's _config.yml and references, an intro page and one executed notebook page."""
    (root / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    shutil.copy(ROOT / "book" / "references.bib", root / "book" / "references.bib")
    (root / "book" / "intro.md").write_text("# Intro\n\nThe first page.\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n"
                                   "  - caption: Pages\n    chapters:\n"
                                   "      - file: executed/alpha\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "Python (emo-lib)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Alpha\n\nA page."),
                nbformat.v4.new_code_cell("x = 1")]
    for folder in ("executed", "notebooks"):
        (root / folder).mkdir()
        nbformat.write(nb, root / folder / "alpha.ipynb")
    return root


def _jupyter_book(root: Path, **env: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "jupyter-book"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EMO_BOOK_")} | env
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT),
                                                          environ.get("PYTHONPATH", "")]))
    return subprocess.run([str(exe), "build", str(root), "-W", "-q"], cwd=root, env=environ,
                          capture_output=True, text=True, timeout=600)


def test_a_build_with_a_repository_links_each_page_to_its_notebook(tmp_path):
    root = _fake_book(tmp_path / "book")
    done = _jupyter_book(root, EMO_BOOK_REPOSITORY=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = root / "_build" / "html" / "executed" / "alpha.html"
    assert launch_hrefs(page) == sorted(expected_links("alpha").values())
    assert f'href="https://github.com/{REPO}"' in page.read_text(), "repository button"
    assert launch_hrefs(root / "_build" / "html" / "book" / "intro.html") == [], \
        "a markdown page has no notebook to launch"


def test_a_build_without_a_repository_shows_no_launch_button(tmp_path):
    root = _fake_book(tmp_path / "book")
    done = _jupyter_book(root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = (root / "_build" / "html" / "executed" / "alpha.html").read_text()
    assert "mybinder.org" not in page and "colab.research.google.com" not in page
    assert "launch-buttons" not in page


def test_a_link_the_extension_cannot_repoint_fails_the_build(tmp_path):
    """A page whose notebook is missing from notebooks/ is a warning, hence an error under -W."""
    root = _fake_book(tmp_path / "book")
    (root / "notebooks" / "alpha.ipynb").unlink()
    done = _jupyter_book(root, EMO_BOOK_REPOSITORY=REPO)
    assert done.returncode != 0
    assert "alpha.ipynb, which is not in notebooks/" in done.stdout + done.stderr


# --- the tiny book (tests/conftest.py builds it with EMO_BOOK_REPOSITORY set) --------------------

@pytest.mark.slow
def test_every_executed_page_of_the_book_launches_its_own_notebook(built_book):
    if os.environ.get("EMO_BOOK_HTML"):
        pytest.skip("a book built elsewhere: its repository is not known here")
    from conftest import TINY_REPOSITORY

    for name in book_notebooks(built_book.root / "_toc.yml"):
        page = built_book.html / "executed" / f"{name}.html"
        assert launch_hrefs(page) == sorted(expected_links(name, TINY_REPOSITORY).values()), name
        assert (ROOT / "notebooks" / f"{name}.ipynb").exists()


@pytest.mark.slow
def test_the_downloadable_notebook_carries_its_injected_parameters(built_book):
    """The page's download button offers the executed copy (_sources/executed/<name>.ipynb): the
    parameters papermill injected are in it (tagged remove-cell, so only the page hides them)."""
    import yaml

    profile = yaml.safe_load((ROOT / "tests" / "profiles" / "tiny.yml").read_text())
    name = "noh2023_age_accuracy"
    page = (built_book.html / "executed" / f"{name}.html").read_text()
    assert f"_sources/executed/{name}.ipynb" in page, "the download button"
    nb = nbformat.read(built_book.html / "_sources" / "executed" / f"{name}.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
    for key in {**profile["defaults"], **profile["notebooks"][name]}:
        assert re.search(rf"^{key} = ", injected[0].source, re.M), key
