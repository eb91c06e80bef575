"""The whole book, built with the tiny profile in a copy of the book root: every notebook runs
and the data-set page holds the reproduced tables."""
import re
import shutil
from pathlib import Path

import pytest

from emo_lib import runner

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_whole_book_builds_with_tiny_profile(tmp_path, monkeypatch, capsys):
    book = tmp_path / "book_root"
    book.mkdir()
    for item in ("_config.yml", "_toc.yml", "book", "notebooks", "profiles"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, book / item)
    monkeypatch.setenv("EMO_BOOK_ROOT", str(book))
    monkeypatch.setenv("EMO_RESULTS", str(book / "results"))
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    code = runner.main(["build", "--profile", str(ROOT / "tests" / "profiles" / "tiny.yml"),
                        "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "book built" in out
    html = (book / "_build" / "html" / "executed" / "datasets_noh2023.html").read_text()
    # Table 1 as reproduced: the paper's total (668) beside this run's, and the banner.
    assert "Table 1" in html and "this run" in html and "difference" in html
    assert len(re.findall(r">\s*668\s*<", html)) >= 2
    assert "synthetic data" in html
    for name in runner.book_notebooks(book / "_toc.yml"):
        assert (book / "results" / name / "results.json").exists(), f"{name} wrote no results"
