"""Builds that cannot mix: two books in two roots, built one after the other and at once, never
see each other's numbers. Results live under each book root; each page's results.json records
the key of the execution that wrote it, and results another build wrote (here: into a shared
results folder) are stale for the runner and refused by the ledger and the build-status page.

The fast tests execute the pages in process (:mod:`paperbook`: the real ``Run``, the runner's
kernel environment, no kernel); the slow one runs real kernels, two books at once, each with
two lanes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emo_lib import runner
from emo_lib.book import build_status, ledger
from emo_lib.pagekey import FOREIGN, page_results_foreign
from paperbook import PAGES, make_paper_book, patch

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def books(tmp_path, monkeypatch):
    """Book A (x = 5) and book B (x = 7) in two roots; one shared cache; no EMO_RESULTS."""
    a = make_paper_book(tmp_path / "A", 5)
    b = make_paper_book(tmp_path / "B", 7)
    monkeypatch.delenv("EMO_RESULTS", raising=False)
    monkeypatch.delenv("EMO_PAGE_KEY", raising=False)
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    for var in ("EMO_PROFILE", "EMO_EXECUTOR", "EMO_JOBS"):
        monkeypatch.delenv(var, raising=False)
    patch(monkeypatch)
    return a, b


def _build(monkeypatch, root: Path, capsys, results: Path | None = None) -> list[str]:
    """Build ``root`` (results in ``results``, default its own); the pages it executed."""
    monkeypatch.setenv("EMO_BOOK_ROOT", str(root))
    if results is None:
        monkeypatch.delenv("EMO_RESULTS", raising=False)
    else:
        monkeypatch.setenv("EMO_RESULTS", str(results))
    assert runner.main(["build", "--profile", "p", "--no-book", "--quiet"]) == 0
    out = capsys.readouterr().out
    return [p for p in PAGES if f"] {p}: executed in" in out]


def _evidence(monkeypatch, root: Path) -> tuple[list[str], list[str]]:
    """Book ``root``'s ledger as its own build shows it: (evidence of each claim, page status
    of each row)."""
    monkeypatch.setenv("EMO_BOOK_ROOT", str(root))
    monkeypatch.delenv("EMO_RESULTS", raising=False)
    table, _ = ledger.book_ledger()
    return table["this run's evidence"].tolist(), table["page status"].tolist()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_build_in_another_root_never_touches_this_books_results(books, monkeypatch, capsys):
    """The issue's scenario: a build with EMO_BOOK_ROOT elsewhere used to overwrite the
    checkout's results, and the checkout's next build called every page up to date."""
    a, b = books
    assert _build(monkeypatch, a, capsys) == list(PAGES)
    assert (a / "results" / "noh2023_a" / "results.json").is_file()   # under the book root
    assert _evidence(monkeypatch, a) == (["value 5", "value 5"], ["executed", "executed"])
    before = _snapshot(a / "results")
    assert _build(monkeypatch, b, capsys) == list(PAGES)
    assert _snapshot(a / "results") == before                         # untouched
    assert _evidence(monkeypatch, b)[0] == ["value 7", "value 7"]
    assert _build(monkeypatch, a, capsys) == []                       # up to date, its own
    assert _evidence(monkeypatch, a)[0] == ["value 5", "value 5"]


def test_results_another_build_wrote_are_stale_and_refused(books, monkeypatch, capsys):
    """Two builds sharing one results folder (EMO_RESULTS): the second overwrites the first's
    results; the first book's ledger and build status refuse them (never "value 7" beside its
    own pages), and its next build executes the pages again."""
    a, b = books
    _build(monkeypatch, a, capsys)
    assert _build(monkeypatch, b, capsys, results=a / "results") == list(PAGES)
    evidence, statuses = _evidence(monkeypatch, a)
    assert "value 7" not in evidence and all(s.startswith(FOREIGN) for s in statuses)
    record = build_status.read_build_record()          # B's build record, in A's folder
    table = build_status.status_table(record)
    assert set(table["status"]) == {FOREIGN}
    monkeypatch.setenv("EMO_BOOK_ROOT", str(a))
    assert _build(monkeypatch, a, capsys) == list(PAGES)
    assert _evidence(monkeypatch, a) == (["value 5", "value 5"], ["executed", "executed"])
    # and book B, whose results folder is now A's again, sees the same from its side
    monkeypatch.setenv("EMO_BOOK_ROOT", str(b))
    monkeypatch.setenv("EMO_RESULTS", str(a / "results"))
    table, _ = ledger.book_ledger()
    assert "value 5" not in table["this run's evidence"].tolist()
    assert all(s.startswith(FOREIGN) for s in table["page status"])


def _build_at_once(env_a: dict[str, str], env_b: dict[str, str], script: list[str]) -> None:
    procs = [subprocess.Popen(script, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=TESTS) for env in (env_a, env_b)]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:]


def _env(root: Path, cache: Path, results: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("EMO_RESULTS", "EMO_PAGE_KEY", "EMO_PROFILE")}
    src = str(TESTS.parent)
    env |= {"EMO_BOOK_ROOT": str(root), "EMO_CACHE": str(cache), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([src, str(TESTS), env.get("PYTHONPATH", "")])} | extra
    if results is not None:
        env["EMO_RESULTS"] = str(results)
    return env


def test_two_roots_built_at_once(books, tmp_path, monkeypatch, capsys):
    """Two processes build A and B at the same time (each page held open a moment so they
    overlap); each book then shows its own numbers, and a new build executes nothing. Then both
    at once into one shared results folder: for each page at most one book owns the results
    (none when the folder ends up mixed), and neither ever shows the other's numbers."""
    a, b = books
    script = [sys.executable, str(TESTS / "paperbook.py")]
    cache = tmp_path / "cache"
    _build_at_once(_env(a, cache, PAPERBOOK_DELAY="0.5"), _env(b, cache, PAPERBOOK_DELAY="0.5"),
                   script)
    assert _evidence(monkeypatch, a) == (["value 5", "value 5"], ["executed", "executed"])
    assert _evidence(monkeypatch, b) == (["value 7", "value 7"], ["executed", "executed"])
    assert _build(monkeypatch, a, capsys) == [] and _build(monkeypatch, b, capsys) == []

    shared = tmp_path / "shared"
    _build_at_once(_env(a, cache, shared, PAPERBOOK_DELAY="0.5"),
                   _env(b, cache, shared, PAPERBOOK_DELAY="0.5"), script)
    for page in PAGES:
        # the last results.json decides, and its files must still be its own: one book owns
        # the page, or none does when the other build rewrote a file after it (a mixed folder)
        owners = [root for root in (a, b) if page_results_foreign(page, shared, root) is None]
        assert len(owners) <= 1, page
    for root, mine, theirs in ((a, "value 5", "value 7"), (b, "value 7", "value 5")):
        monkeypatch.setenv("EMO_BOOK_ROOT", str(root))
        monkeypatch.setenv("EMO_RESULTS", str(shared))
        table, _ = ledger.book_ledger(shared)
        assert theirs not in table["this run's evidence"].tolist()
        for _, row in table.iterrows():
            assert row["this run's evidence"] == mine or row["page status"].startswith(FOREIGN)


@pytest.mark.slow
def test_two_roots_at_once_with_real_kernels_and_lanes(tmp_path):
    """Real kernels: A and B built at the same time, each with two lanes (two kernels at once
    in one process, each with its own page key); every page's results carry its own copy's
    key and its own book's number; a second build executes nothing."""
    a = make_paper_book(tmp_path / "A", 5)
    b = make_paper_book(tmp_path / "B", 7)
    cache = tmp_path / "cache"
    script = [sys.executable, "-m", "emo_lib", "build", "--profile", "p", "--no-book",
              "--quiet", "--lanes", "2"]
    _build_at_once(_env(a, cache), _env(b, cache), script)
    for root, x in ((a, 5), (b, 7)):
        for page in PAGES:
            assert page_results_foreign(page, root / "results", root) is None
            record = json.loads((root / "results" / page / "results.json").read_text())
            assert record["values"] == {"x": x} and record["page_key"]
    for root in (a, b):
        out = subprocess.run(script, env=_env(root, cache), capture_output=True, text=True,
                             cwd=TESTS, timeout=600)
        assert out.returncode == 0 and "executed in" not in out.stdout, out.stdout[-2000:]


def test_a_readers_run_has_its_own_key_and_sits_beside_the_books_run(books, monkeypatch,
                                                                     capsys):
    """``emo-book run`` gives its execution a key of its own: its results belong to its run
    folder's copy, never to the book, and the Runs page sets them beside the book's."""
    from emo_lib.book import runs

    a, _ = books
    _build(monkeypatch, a, capsys)
    out = a / "runs" / "noh2023_a-test"
    assert runner.main(["run", "noh2023_a", "-p", "x=3", "--out", str(out), "--quiet"]) == 0
    found = runs.find_runs(a / "runs")
    book = runs.book_run("noh2023_a", a / "results")
    assert [r.foreign for r in found] == [None] and book.foreign is None
    assert found[0].record["page_key"] != book.record["page_key"]
    assert runs.value_table(book, found).loc["x"].tolist()[1:3] == [5, 3]
    # the run wrote nothing into the book's results
    assert _evidence(monkeypatch, a)[0] == ["value 5", "value 5"]


def test_a_file_rewritten_after_its_execution_makes_the_results_foreign(tmp_path):
    """results.json carries the digest of every file its execution wrote: a claims.csv that
    another build rewrote in a shared folder is refused, though the key still matches."""
    import json

    from emo_lib.pagekey import DIGESTS_FIELD, RESULTS_FIELD, file_digests, foreign_results

    page = tmp_path / "results" / "p"
    page.mkdir(parents=True)
    (page / "claims.csv").write_text("claim_id,verdict\nx,supported\n")
    record = {RESULTS_FIELD: "k1", DIGESTS_FIELD: file_digests([page / "claims.csv"])}
    (page / "results.json").write_text(json.dumps(record))
    executed = tmp_path / "p.ipynb"
    executed.write_text(json.dumps({"metadata": {"emo_book": {"key": "k1"}}}))
    assert foreign_results(page / "results.json", executed) is None
    (page / "claims.csv").write_text("claim_id,verdict\nx,contradicted\n")
    assert foreign_results(page / "results.json", executed).startswith(
        f"{FOREIGN}: claims.csv was rewritten after this execution")
    (page / "claims.csv").unlink()
    assert foreign_results(page / "results.json", executed) is not None
