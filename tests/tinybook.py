"""A throwaway book root with two tiny notebooks, for the runner's tests.

``alpha`` declares ``x`` (int), ``rate`` (float), ``tag`` (a None default), a ``cafe`` data-set
pair, and writes ``results/alpha/results.json`` plus what its kernel sees (x, EMO_PROFILE,
EMO_EXECUTOR, EMO_RESULTS) and its execution's key (EMO_PAGE_KEY, as ``Run.finish`` records it);
``beta`` declares ``y`` and ``x`` and fails when ``y`` is 2 (its
default).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

ALPHA_PARAMS = 'x = 1  # a number\nrate = 0.5\ntag = None\ncafe_dataset = ""\ncafe_root = ""'
ALPHA_BODY = """import json, os, pathlib
out = pathlib.Path(os.environ['EMO_RESULTS']) / 'alpha'
out.mkdir(parents=True, exist_ok=True)
seen = {'x': x, 'profile': os.environ.get('EMO_PROFILE'),
        'executor': os.environ.get('EMO_EXECUTOR'), 'jobs': os.environ.get('EMO_JOBS'),
        'results': os.environ.get('EMO_RESULTS')}
print('seen', json.dumps(seen, sort_keys=True))
key = {'page_key': os.environ.get('EMO_PAGE_KEY')}
(out / 'results.json').write_text(json.dumps(seen | key))"""
BETA_PARAMS = "y = 2\nx = 0"
BETA_BODY = """import json, os, pathlib
if y == 2:
    raise ValueError(f'boom {y}')
out = pathlib.Path(os.environ['EMO_RESULTS']) / 'beta'
out.mkdir(parents=True, exist_ok=True)
key = {'page_key': os.environ.get('EMO_PAGE_KEY')}
(out / 'results.json').write_text(json.dumps({'y': y} | key))"""


def write_notebook(path: Path, params: str, body: str, title: str = "# tiny") -> None:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title), p, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "emo-lib",
                                 "language": "python"}
    nbformat.write(nb, path)


def make_book(root: Path, monkeypatch) -> Path:
    """alpha and beta in ``root`` (a profile ``p`` sets x: 5 and alpha's cafe_root from
    $EMO_TEST_ROOT); EMO_BOOK_ROOT and EMO_RESULTS point there."""
    (root / "notebooks").mkdir(parents=True)
    (root / "profiles").mkdir()
    write_notebook(root / "notebooks" / "alpha.ipynb", ALPHA_PARAMS, ALPHA_BODY)
    write_notebook(root / "notebooks" / "beta.ipynb", BETA_PARAMS, BETA_BODY)
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: executed/alpha\n  - file: executed/beta\n")
    (root / "profiles" / "p.yml").write_text(
        "name: p\ndefaults:\n  x: 5\nnotebooks:\n  alpha:\n    cafe_root: ${EMO_TEST_ROOT}\n")
    (root / "requirements-lock.txt").write_text("numpy==1\n")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(root))
    monkeypatch.setenv("EMO_RESULTS", str(root / "results"))
    for var in ("EMO_PROFILE", "EMO_EXECUTOR", "EMO_JOBS", "EMO_SLURM_PARTITION",
                "EMO_GPUS_PER_JOB", "EMO_ARRAY_PARALLELISM"):
        monkeypatch.delenv(var, raising=False)
    return root
