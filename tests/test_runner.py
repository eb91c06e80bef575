"""emo-book list / check / run / build on tiny notebooks in a throwaway book root."""
from pathlib import Path

import nbformat
import pytest

from emo_lib import runner


def _notebook(path: Path, params: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny"), p, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "emo-lib", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def book(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "profiles").mkdir()
    _notebook(tmp_path / "notebooks" / "alpha.ipynb",
              'x = 1  # a number\ncafe_dataset = ""\ncafe_root = ""',
              "import os\nprint('x is', x)\nprint('results', os.environ.get('EMO_RESULTS'))")
    _notebook(tmp_path / "notebooks" / "beta.ipynb", "y = 2", "raise ValueError(f'boom {y}')")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: executed/alpha\n  - file: executed/beta\n")
    (tmp_path / "profiles" / "p.yml").write_text(
        "name: p\ndefaults:\n  x: 5\nnotebooks:\n  alpha:\n    cafe_root: ${EMO_TEST_ROOT}\n")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    return tmp_path


def test_book_order_from_toc(book):
    assert runner.book_notebooks() == ["alpha", "beta"]


def test_list_shows_parameters(book, capsys):
    assert runner.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "x: int = 1" in out and "# a number" in out


def test_profile_defaults_apply_where_declared_and_env_expands(book, monkeypatch):
    monkeypatch.setenv("EMO_TEST_ROOT", "/somewhere")
    params = runner.resolve_parameters(runner.load_profile("p"), ["alpha", "beta"])
    assert params["alpha"] == {"x": 5, "cafe_root": "/somewhere"}
    assert params["beta"] == {}  # beta does not declare x


def test_undeclared_parameter_and_missing_dataset_reported_together(book, monkeypatch):
    monkeypatch.delenv("CAFE_ROOT", raising=False)
    overrides = runner.parse_overrides(["alpha.z=3", "alpha.cafe_dataset=cafe",
                                        "alpha.cafe_root=/no/such/cafe"])
    with pytest.raises(runner.ProfileError) as err:
        runner.resolve_parameters(runner.load_profile("p"), ["alpha", "beta"], overrides)
    msg = str(err.value)
    assert "'z'" in msg and "not declared" in msg
    assert "/no/such/cafe" in msg and "CAFE_ROOT" in msg


def test_unknown_profile_and_bad_override(book):
    with pytest.raises(runner.ProfileError, match="no profile 'nope'"):
        runner.load_profile("nope")
    with pytest.raises(runner.ProfileError, match="NOTEBOOK.key=value"):
        runner.parse_overrides(["justtext"])
    assert runner.main(["check", "--profile", "nope"]) == 2


@pytest.mark.slow
def test_run_writes_its_own_folder(book, capsys):
    out = book / "myrun"
    assert runner.main(["run", "alpha", "-p", "x", "42", "--out", str(out), "--quiet"]) == 0
    nb = nbformat.read(out / "alpha.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "x is 42" in text and str(out / "results") in text
    assert not (book / "executed").exists()  # never touches the book's copies
    assert str(out) in capsys.readouterr().out


@pytest.mark.slow
def test_build_reports_failing_cell_and_keeps_the_others(book, capsys):
    code = runner.main(["build", "--profile", "p", "--no-book", "--quiet"])
    assert code == 1
    captured = capsys.readouterr()
    assert "beta: failed" in captured.out and "ValueError: boom 2" in captured.out
    assert "cell" in captured.out
    assert (book / "executed" / "alpha.ipynb").exists()   # the good one was kept
    assert (book / "executed" / "beta.ipynb").exists()    # the failed copy shows where it stopped
