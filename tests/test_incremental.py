"""Incremental builds: a page is executed again exactly when one of its inputs changed (source,
parameters, emo_lib, lock file, data), its last run failed or its results are gone; ``--force``
overrides; the build record says what happened. The fast tests replace papermill with a fake
that writes what a real execution writes; the slow one runs the real kernel."""
import json
import re
import os

import nbformat
import pytest

from emo_lib import layout, runner
from emo_lib.runner import builder as build_module
from emo_lib.runner import incremental
from emo_lib.runner.execute import hide_parameter_cells
from tinybook import make_book


class FakePapermill:
    """Stands in for ``execute``: records calls, writes an executed copy and results.json
    (with the execution's key, as ``Run.finish`` writes it from ``$EMO_PAGE_KEY``)."""

    def __init__(self, fail=()):
        self.calls, self.envs, self.fail = [], [], set(fail)

    def __call__(self, name, output, parameters, *, kernel, env, record, progress, verbose):
        self.calls.append(name)
        self.envs.append(dict(env))
        status = "failed" if name in self.fail else "ok"
        nb = nbformat.read(runner.notebook_path(name), as_version=4)
        nb.metadata["emo_book"] = dict(record) | {"status": status, "seconds": 1.5,
                                                  "executed_at": "t", "error": ""}
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, output)
        if status == "ok":
            out = layout.results_root() / name
            out.mkdir(parents=True, exist_ok=True)
            (out / "results.json").write_text(json.dumps({"page_key": record.get("key")}))
        return runner.Outcome(name, "executed" if status == "ok" else "failed", 1.5, output,
                              "cell 2: ValueError: boom" if status == "failed" else "")


@pytest.fixture
def book(tmp_path, monkeypatch):
    root = make_book(tmp_path / "book", monkeypatch)
    fake = FakePapermill()
    monkeypatch.setattr(build_module, "execute", fake)
    monkeypatch.setattr(build_module, "ensure_kernel", lambda name: name)
    return root, fake


def build(fake, *args):
    fake.calls.clear()
    code = runner.main(["build", "--profile", "p", "--no-book", "--quiet", *args])
    return code, list(fake.calls)


def _edit_source(path, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += text
    nbformat.write(nb, path)


def test_second_build_executes_nothing_and_edits_reexecute_only_their_page(book, capsys):
    root, fake = book
    assert build(fake) == (0, ["alpha", "beta"])
    assert build(fake) == (0, [])
    out = capsys.readouterr().out
    assert "alpha: up to date" in out and "beta: up to date" in out
    before = (root / "executed" / "alpha.ipynb").stat().st_mtime_ns
    assert build(fake) == (0, [])
    assert (root / "executed" / "alpha.ipynb").stat().st_mtime_ns == before  # untouched
    _edit_source(root / "notebooks" / "alpha.ipynb", "\nprint('edited')")
    assert build(fake) == (0, ["alpha"])
    assert "alpha: executing (changed: notebook;" in capsys.readouterr().out
    # a new modification time with the same cells is not a change (jupytext regenerates files)
    os.utime(root / "notebooks" / "beta.ipynb")
    assert build(fake) == (0, [])


def test_each_input_triggers_reexecution(book, monkeypatch):
    root, fake = book
    assert build(fake)[1] == ["alpha", "beta"]
    assert build(fake, "-p", "alpha.x=8")[1] == ["alpha"]          # parameters
    assert build(fake, "-p", "alpha.x=8")[1] == []
    assert build(fake)[1] == ["alpha"]                              # back to the profile's
    (root / "requirements-lock.txt").write_text("numpy==2\n")      # lock file
    assert build(fake)[1] == ["alpha", "beta"]
    monkeypatch.setattr(incremental, "notebook_code_digest", lambda p: "other code")  # emo_lib
    assert build(fake)[1] == ["alpha", "beta"]
    assert build(fake)[1] == []
    (layout.results_root() / "beta" / "results.json").unlink()        # results gone
    assert build(fake)[1] == ["beta"]
    other = root / "profiles" / "q.yml"                                     # profile name
    other.write_text((root / "profiles" / "p.yml").read_text().replace("name: p", "name: q"))
    fake.calls.clear()
    assert runner.main(["build", "--profile", "q", "--no-book", "--quiet"]) == 0
    assert fake.calls == ["alpha", "beta"]


def test_real_data_fingerprint_triggers_reexecution(book, monkeypatch):
    root, fake = book
    data = root.parent / "images"
    (data / "happy").mkdir(parents=True)
    (data / "happy" / "a.png").write_bytes(b"1")
    monkeypatch.setenv("EMO_TEST_ROOT", str(data))
    args = ("-p", "alpha.cafe_dataset=folder")
    assert build(fake, *args)[1] == ["alpha", "beta"]
    assert build(fake, *args)[1] == []
    (data / "happy" / "b.png").write_bytes(b"2")
    assert build(fake, *args)[1] == ["alpha"]
    inputs = json.loads((root / "executed" / "alpha.ipynb").read_text())["metadata"]["emo_book"]
    (fp,) = inputs["inputs"]["data"]
    assert fp["dataset"] == "folder" and fp["files"] == 2 and fp["root"] == str(data)


def test_failed_pages_run_again_and_force_reexecutes(book, capsys):
    root, fake = book
    fake.fail = {"beta"}
    assert build(fake) == (1, ["alpha", "beta"])
    assert build(fake) == (1, ["beta"])                 # a failed page is never up to date
    fake.fail = set()
    assert build(fake) == (0, ["beta"])
    assert build(fake, "--force") == (0, ["alpha", "beta"])
    assert build(fake, "--force", "beta") == (0, ["beta"])
    assert build(fake, "--force", "gamma")[0] == 2
    assert "--force gamma: not a notebook of the book" in capsys.readouterr().err
    assert build(fake, "--only", "alpha", "--force", "beta") == (2, [])
    assert "--force beta: not executed with --only alpha" in capsys.readouterr().err


def test_only_skips_and_writes_placeholders(book, capsys):
    root, fake = book
    assert build(fake, "--only", "beta") == (0, ["beta"])
    placeholder = json.loads((root / "executed" / "alpha.ipynb").read_text())
    assert placeholder["metadata"]["emo_book"]["status"] == "not executed"
    assert re.search(r"^alpha +skipped +placeholder written", capsys.readouterr().out, re.M)
    assert build(fake, "--only", "beta") == (0, [])
    assert build(fake) == (0, ["alpha"])   # a placeholder is not an executed copy


def test_kernel_environment_and_build_record(book, capsys, monkeypatch):
    root, fake = book
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    assert build(fake, "--executor", "local", "--jobs", "3")[0] == 0
    assert fake.envs[0] == {"EMO_PROFILE": "p", "EMO_EXECUTOR": "local", "EMO_JOBS": "3",
                            "EMO_SLURM_PARTITION": None, "EMO_GPUS_PER_JOB": None,
                            "EMO_ARRAY_PARALLELISM": None, "EMO_SLURM_CPUS_PER_TASK": None,
                            "EMO_SLURM_MEM_GB": None, "EMO_SLURM_TIMEOUT_MIN": None,
                            "EMO_DETERMINISTIC": "1", "EMO_PIN_CPU": None,
                            "EMO_DATA_PATH": "auto", "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    # executor settings are not inputs: switching executor re-executes nothing
    assert build(fake, "--executor", "inline")[1] == []
    record = json.loads((layout.results_root() / "build_status.json").read_text())
    assert record["profile"] == "p" and record["executor"]["kind"] == "inline"
    assert record["compute"] == {"deterministic": True, "pin_cpu": None, "data_path": "auto"}
    assert record["machine"]["cpu_capability"] and record["machine"]["threads"]
    assert record["git"] == {"commit": None, "dirty": None}   # tmp folder: not a repository
    assert record["finished"] is not None and record["order"] == ["alpha", "beta"]
    alpha = record["notebooks"]["alpha"]
    copy = json.loads((root / "executed" / "alpha.ipynb").read_text())["metadata"]["emo_book"]
    assert alpha["status"] == "up to date" and alpha["seconds"] == 1.5
    assert alpha["key"] == copy["key"] == incremental.key_of(copy["inputs"])
    assert alpha["profile"] == "p"
    summary = capsys.readouterr().out.split("\nnotebook", 1)[1]
    assert "total" in summary and "2 up to date" in summary


def test_a_stray_executor_variable_in_the_shell_never_reaches_a_unit(book, monkeypatch):
    """Issue 15: settings defined once, cleared in one place. A value left in the shell is
    removed from the kernel's environment, so the training code reads the profile's settings."""
    from emo_lib.executor_settings import ENVIRONMENT, ExecutorSettings
    from emo_lib.runner.execute import environment

    _, fake = book
    for var in ENVIRONMENT.values():
        monkeypatch.setenv(var, "7" if var != "EMO_EXECUTOR" else "slurm")
    assert build(fake, "--executor", "local")[0] == 0
    env = fake.envs[0]
    assert set(ENVIRONMENT.values()) <= set(env)       # every variable is listed
    assert {v: env[v] for v in ENVIRONMENT.values()} == {
        v: ("local" if v == "EMO_EXECUTOR" else None) for v in ENVIRONMENT.values()}
    with environment(env):   # what execute() gives the kernel papermill starts
        assert ExecutorSettings.from_env() == ExecutorSettings(kind="local")


def test_compute_settings_are_inputs_of_every_page(book, monkeypatch):
    _, fake = book
    assert build(fake) == (0, ["alpha", "beta"])
    assert build(fake, "--pin-cpu", "avx2") == (0, ["alpha", "beta"])
    assert fake.envs[-1]["ATEN_CPU_CAPABILITY"] == "avx2"
    assert build(fake, "--pin-cpu", "avx2") == (0, [])
    assert build(fake, "--pin-cpu", "avx2", "--deterministic", "false") == (0, ["alpha", "beta"])
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")   # as on a machine without AVX2
    assert build(fake, "--deterministic", "false") == (0, ["alpha", "beta"])
    assert build(fake, "--executor", "local", "--deterministic", "false") == (0, [])


def test_git_state_of_a_repository(tmp_path):
    import subprocess

    from emo_lib.provenance import git_state

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("1")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    assert git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / ".gitignore").write_text("results/\n")
    git("add", ".gitignore")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "y")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("{}")
    assert git_state(tmp_path)["dirty"] is False           # build products are ignored
    (tmp_path / "new_source.py").write_text("u")
    assert git_state(tmp_path)["dirty"] is True            # a file the build used, uncommitted
    (tmp_path / "new_source.py").unlink()
    (tmp_path / "f.txt").write_text("2")
    assert git_state(tmp_path) == {"commit": head, "dirty": True}


def test_notebook_digest_ignores_outputs_and_counts_tags(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    base = incremental.notebook_digest(path)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1")]
    nb.cells[0].execution_count = 3
    nb.metadata["anything"] = 1
    nbformat.write(nb, path)
    assert incremental.notebook_digest(path) == base
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, path)
    assert incremental.notebook_digest(path) != base


def test_parameter_cells_are_hidden():
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(s) for s in ("a = 1", "a = 2", "print(a)")]
    cells[0].metadata["tags"] = ["parameters"]
    cells[1].metadata["tags"] = ["injected-parameters"]
    nb.cells = cells
    hide_parameter_cells(nb)
    hide_parameter_cells(nb)   # idempotent
    assert [c.metadata.get("tags", []) for c in nb.cells] == [
        ["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], []]


@pytest.mark.slow
def test_real_build_twice_then_edit_then_force(tmp_path, monkeypatch, capsys):
    """With papermill and the kernel: the second build executes nothing; editing alpha's
    source re-executes only alpha; --force re-executes both."""
    root = make_book(tmp_path / "book", monkeypatch)
    nb = nbformat.read(root / "notebooks" / "beta.ipynb", as_version=4)
    nb.cells[1].source = "y = 3\nx = 0"    # beta succeeds
    nbformat.write(nb, root / "notebooks" / "beta.ipynb")

    def run(*args):
        code = runner.main(["build", "--profile", "p", "--no-book", "--quiet", *args])
        out = capsys.readouterr().out
        return code, [n for n in ("alpha", "beta") if f"] {n}: executed in" in out]

    assert run() == (0, ["alpha", "beta"])
    assert run() == (0, [])
    _edit_source(root / "notebooks" / "alpha.ipynb", "\nprint('edited')")
    assert run() == (0, ["alpha"])
    assert run("--force") == (0, ["alpha", "beta"])
    copy = nbformat.read(root / "executed" / "alpha.ipynb", as_version=4)
    assert "remove-cell" in copy.cells[1].metadata["tags"]      # the parameters cell
    assert copy.metadata["emo_book"]["status"] == "ok"


def test_aggregate_pages_run_last_and_read_the_others_results(tmp_path, monkeypatch):
    from emo_lib.runner import incremental
    from emo_lib.runner.notebooks import execution_order

    order = execution_order(["intro_x", "claims_ledger", "noh2023_a", "build_status", "runs"])
    assert order == ["intro_x", "noh2023_a", "claims_ledger", "build_status", "runs"]
    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    page = tmp_path / "results" / "noh2023_a"
    page.mkdir(parents=True)
    (page / "claims.csv").write_text("claim_id,claim,verdict,evidence\n")
    first = incremental.results_digest()
    (page / "figure.png").write_bytes(b"x")                  # not a file the ledger reads
    assert incremental.results_digest() == first
    (page / "claims.csv").write_text("claim_id,claim,verdict,evidence\nx,c,supported,e\n")
    assert incremental.results_digest() != first
    second = incremental.results_digest()
    own = tmp_path / "results" / "claims_ledger"
    own.mkdir()
    (own / "results.json").write_text("{}")                   # its own results do not count
    assert incremental.results_digest() == second
    run = tmp_path / "runs" / "noh2023_a-1" / "results" / "noh2023_a"
    run.mkdir(parents=True)
    (run / "results.json").write_text("{}")                   # a reader's new run does
    assert incremental.results_digest() != second


def test_render_html_leaves_out_removed_cells(tmp_path):
    import nbformat

    from emo_lib.runner.execute import render_html

    nb = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_code_cell("secret_setup = 1")
    hidden.metadata["tags"] = ["remove-cell"]
    shown = nbformat.v4.new_code_cell("print('visible')")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="visible output\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A run"), hidden, shown]
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    html = render_html(path).read_text()
    assert "visible output" in html and "A run" in html
    assert "secret_setup" not in html


def test_lanes_execute_every_page_once_with_the_environment_set_once(book, monkeypatch):
    root, fake = book
    seen = {}

    def fake_with_env(name, output, parameters, *, kernel, env, record, progress, verbose):
        seen[name] = {k: os.environ.get(k) for k in ("EMO_PROFILE", "OMP_NUM_THREADS")}
        assert env == {} and progress is False    # set once for the lanes, no progress bars
        return fake(name, output, parameters, kernel=kernel, env=env, record=record,
                    progress=progress, verbose=verbose)

    monkeypatch.setattr(build_module, "execute", fake_with_env)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    code, calls = build(fake, "--lanes", "2")
    assert code == 0 and sorted(calls) == ["alpha", "beta"]
    # one torch thread per kernel (the same numbers whatever the lanes or cores)
    assert seen == {n: {"EMO_PROFILE": "p", "OMP_NUM_THREADS": "1"} for n in ("alpha", "beta")}
    assert os.environ.get("EMO_PROFILE") is None          # restored after the lanes
    record = json.loads((root / "results" / "build_status.json").read_text())
    assert {n: r["status"] for n, r in record["notebooks"].items()} == {
        "alpha": "executed", "beta": "executed"}
    assert build(fake, "--lanes", "2") == (0, [])          # incremental as before
    assert runner.main(["build", "--profile", "p", "--no-book", "--lanes", "0"]) != 0


def test_lanes_compute_prerequisites_first_and_record_them(book, monkeypatch, capsys):
    """The pages' prerequisites (emo_lib.prerequisites) run before the pages that need them,
    in the kernels' environment; the build record, the summary and a failed one say so."""
    from emo_lib.prerequisites import Prerequisite
    from emo_lib.runner.prepare import Prepared

    root, fake = book
    needs = [Prerequisite("emo_lib.x:big", {"n": 1}, "big one", 9.0),
             Prerequisite("emo_lib.x:small", {"n": 2}, "small one", 1.0)]
    asked, order = {}, []

    def provider(params):
        asked.update(params)
        return needs, {"alpha": [needs[1].key], "beta": [needs[0].key, needs[1].key]}

    def fake_prepare(need, python, pages):
        order.append(need.label)
        assert os.environ.get("OMP_NUM_THREADS") == "1"     # the kernels' environment
        status = "failed" if need.label == "small one" else "computed"
        return Prepared(need.label, pages, status, 2.0, note="boom" if status == "failed"
                        else f"for {', '.join(pages)}")

    monkeypatch.setattr(build_module, "page_prerequisites_of", provider)
    monkeypatch.setattr(build_module, "prepare", fake_prepare)
    monkeypatch.setattr(build_module, "kernel_python", lambda kernel: "python")
    calls = []
    monkeypatch.setattr(build_module, "execute", lambda name, *a, **k: (
        calls.append((name, list(order))), fake(name, *a, **k))[1])
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    code = runner.main(["build", "--profile", "p", "--no-book", "--quiet", "--lanes", "2"])
    assert code == 0 and set(asked) == {"alpha", "beta"}
    assert order == ["big one", "small one"]                  # costliest first
    assert all(seen == order for _, seen in calls)            # pages after both
    record = json.loads((root / "results" / "build_status.json").read_text())
    assert [(p["label"], p["status"]) for p in record["prerequisites"]] == [
        ("big one", "computed"), ("small one", "failed")] or \
        [(p["label"], p["status"]) for p in record["prerequisites"]] == [
        ("small one", "failed"), ("big one", "computed")]
    out = capsys.readouterr().out
    assert "(prerequisite) big one" in out and "small one: failed in 2.0 s -- boom" in out
    # one lane: no prerequisites phase, the pages compute what they need themselves
    order.clear()
    assert build(fake, "--force") == (0, ["alpha", "beta"]) and order == []


def test_lane_groups_follow_the_parts_of_the_toc_in_book_order(tmp_path, monkeypatch):
    """Lanes come from _toc.yml's parts (the runner knows no paper): one lane per part, book
    order kept inside it, the longest lanes first; a page in no part gets a lane of its own."""
    from emo_lib.runner.notebooks import lane_groups
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: executed/a1\n"
        "        sections:\n          - file: executed/a2\n          - file: executed/a3\n"
        "  - caption: B\n    chapters:\n      - file: executed/b1\n      - file: executed/b2\n")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    assert lane_groups(["b1", "a1", "a2", "b2", "a3", "loose"]) == [
        ["a1", "a2", "a3"], ["b1", "b2"], ["loose"]]


def test_build_record_notes_say_why_each_page_ran_or_did_not(book):
    """The build-status page's notes: a page executed for lack of a copy does not read "never
    executed"; an up-to-date page says its inputs are unchanged, not "never executed"."""
    from emo_lib.book.build_status import read_build_record, status_table

    root, fake = book
    build(fake)
    notes = status_table(read_build_record()).set_index("page")["note"]
    assert notes["alpha"] == "executed: no earlier copy to reuse"
    build(fake)
    table = status_table(read_build_record()).set_index("page")
    assert table.loc["alpha", "status"] == "up to date"
    assert "unchanged" in table.loc["alpha", "note"] and "never" not in table.loc["alpha", "note"]
    _edit_source(root / "notebooks" / "alpha.ipynb", "\nprint('edited')")
    build(fake)
    assert read_build_record()["notebooks"]["alpha"]["note"] == \
        "executed: its inputs changed (notebook)"
