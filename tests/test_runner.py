"""emo-book list / check / run / build on tiny notebooks in a throwaway book root: the -p syntax,
validation before anything runs (all problems at once, plain text), executor flags, and (slow)
real papermill runs."""
import json

import nbformat
import pytest

from emo_lib import runner
from emo_lib.runner.cli import modernize
from tinybook import make_book


@pytest.fixture
def book(tmp_path, monkeypatch):
    return make_book(tmp_path / "book", monkeypatch)


def _over(*items):
    return runner.parse_overrides(items)


def test_book_order_from_toc(book):
    assert runner.book_notebooks() == ["alpha", "beta"]


def test_list_shows_parameters(book, capsys):
    assert runner.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "x: int = 1" in out and "# a number" in out
    assert "rate: float = 0.5" in out


# ----------------------------------------------------------------------------- -p syntax

def test_override_syntax_and_yaml_values():
    o = runner.parse_overrides(["alpha.x=3", "rate=1e-4", "tag=[a, b]", "tag=", "m={k: v}",
                                "q=null", "s='1'"])
    assert [(i.notebook, i.key) for i in o] == [("alpha", "x"), (None, "rate"), (None, "tag"),
                                                (None, "tag"), (None, "m"), (None, "q"),
                                                (None, "s")]
    assert [i.value for i in o] == [3, 1e-4, ["a", "b"], "", {"k": "v"}, None, "1"]
    assert isinstance(o[1].value, float)   # YAML 1.1 would read 1e-4 as text
    for bad in ("justtext", "=3", "a.b.c=1", "x=[unclosed"):
        with pytest.raises(runner.ProfileError, match="KEY=VALUE|not valid YAML"):
            runner.parse_overrides([bad])


def test_global_and_notebook_overrides_and_precedence(book, monkeypatch):
    monkeypatch.setenv("EMO_TEST_ROOT", "/somewhere")
    profile = runner.load_profile("p")
    params = runner.resolve_parameters(profile, ["alpha", "beta"], check_data=[])
    assert params == {"alpha": {"x": 5, "cafe_root": "/somewhere"}, "beta": {"x": 5}}
    # KEY=VALUE reaches every notebook declaring KEY; NOTEBOOK.KEY=VALUE wins, in any order.
    params = runner.resolve_parameters(profile, ["alpha", "beta"],
                                       _over("beta.x=9", "x=7", "y=3"), check_data=[])
    assert params["alpha"]["x"] == 7 and params["beta"] == {"x": 9, "y": 3}


def test_key_no_notebook_declares_and_unknown_notebook(book):
    with pytest.raises(runner.ValidationError) as err:
        runner.resolve_parameters(runner.load_profile("p"), ["alpha", "beta"],
                                  _over("zz=1", "gamma.x=1", "alpha.y=1"), check_data=[])
    assert err.value.problems == [
        "-p zz=1: no notebook declares zz",
        "-p gamma.x=1: no notebook gamma; notebooks: alpha, beta",
        "alpha: parameter y (from -p alpha.y=1) is not declared by the notebook; it declares "
        "cafe_dataset, cafe_root, rate, tag, x",
    ]


# ----------------------------------------------------------------------------- types

@pytest.mark.parametrize("value, declared, expected", [
    (3, "int", None), ("3", "int", "int"), (3.0, "int", "int"), (True, "int", "int"),
    (3, "float", None), (3.5, "float", None), (False, "float", "float"),
    ("a", "str", None), (None, "str", "str"), (1, "bool", "bool"), (True, "bool", None),
    ([1], "list", None), ({}, "list", "list"), ({"a": 1}, "dict", None),
    ("anything", "NoneType", None), ([1], "NoneType", None),
    (None, "Optional[int]", None), ("a", "Optional[int]", "int or null"),
    (2, "int | None", None), (["a"], "list[str]", None), ("x", "MyType", None),
])
def test_type_rules(value, declared, expected):
    assert runner.type_mismatch(value, declared) == expected


def test_wrong_types_fail_validation_once_per_value(book):
    with pytest.raises(runner.ValidationError) as err:
        runner.resolve_parameters(runner.load_profile("p"), ["alpha", "beta"],
                                  _over("x=notanumber", "alpha.rate=3", "alpha.tag=[1]",
                                        "beta.y=2.5"), check_data=[])
    assert err.value.problems == [
        "alpha: x = notanumber (from -p x=notanumber) is str; expected int (default: 1)",
        "beta: x = notanumber (from -p x=notanumber) is str; expected int (default: 0)",
        "beta: y = 2.5 (from -p beta.y=2.5) is float; expected int (default: 2)",
    ]   # rate=3 (an int for a float) and tag=[1] (a None default) are fine


def test_run_with_wrong_type_fails_before_any_kernel(book, capsys, monkeypatch):
    def no_kernel(*a, **k):
        raise AssertionError("a kernel was started")
    monkeypatch.setattr(runner.cli, "execute", no_kernel)
    assert runner.main(["run", "alpha", "-p", "x=notanumber"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emo-book: alpha cannot run (1 problem):")
    assert "x = notanumber (from -p x=notanumber) is str; expected int" in err
    assert "'notanumber'" not in err and "Error" not in err   # plain text, no reprs
    assert runner.main(["run", "alpha", "-p", "beta.x=1"]) == 2
    assert "sets only alpha's parameters" in capsys.readouterr().err


def test_old_run_p_form_is_rewritten_with_a_warning(capsys):
    assert modernize(["run", "nb", "-p", "seed", "3", "-p", "x=1", "--quiet"]) == \
        ["run", "nb", "-p", "seed=3", "-p", "x=1", "--quiet"]
    assert "deprecated; write -p seed=3" in capsys.readouterr().err
    assert modernize(["build", "-p", "a.b=1"]) == ["build", "-p", "a.b=1"]


# ----------------------------------------------------------------------------- data sets

def test_missing_data_reported_once_with_the_pages(book, monkeypatch):
    monkeypatch.delenv("CAFE_ROOT", raising=False)
    (book / "notebooks" / "beta.ipynb").unlink()
    from tinybook import ALPHA_BODY, write_notebook
    write_notebook(book / "notebooks" / "beta.ipynb", 'cafe_dataset = ""\ncafe_root = ""\nx = 0',
                   ALPHA_BODY)
    profile = runner.load_profile("p")
    with pytest.raises(runner.ValidationError) as err:
        runner.resolve_parameters(profile, ["alpha", "beta"], _over("cafe_dataset=cafe"))
    (problem,) = err.value.problems      # one line for two pages
    assert "CAFE_ROOT" in problem and problem.endswith("Needed by: alpha, beta.")
    # --only beta: only beta's data sets are checked (and still reported)
    with pytest.raises(runner.ValidationError, match="Needed by: beta."):
        runner.resolve_parameters(profile, ["alpha", "beta"], _over("cafe_dataset=cafe"),
                                  check_data=["beta"])
    # two roots: two lines, each with its page
    monkeypatch.setenv("EMO_TEST_ROOT", "/no/such/cafe")
    profile = runner.load_profile("p")   # ${EMO_TEST_ROOT} is read when the profile is loaded
    with pytest.raises(runner.ValidationError) as err:
        runner.resolve_parameters(profile, ["alpha", "beta"],
                                  _over("cafe_dataset=cafe", "beta.cafe_root=/other"))
    assert [p.rsplit("Needed by: ", 1)[1] for p in err.value.problems] == ["alpha.", "beta."]
    assert "/no/such/cafe" in err.value.problems[0]
    assert runner.resolve_parameters(profile, ["alpha", "beta"], _over("cafe_dataset=cafe"),
                                     check_data=[])["alpha"]["cafe_dataset"] == "cafe"


def test_unknown_profile_and_profile_keys(book, capsys):
    with pytest.raises(runner.ProfileError, match="no profile nope .*known: p"):
        runner.load_profile("nope")
    assert runner.main(["check", "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emo-book: no profile nope (looked for ") and "'" not in err
    (book / "profiles" / "bad.yml").write_text("name: bad\ndefaults: {zz: 1}\nnotebooks:\n"
                                               "  gamma: {x: 1}\n")
    with pytest.raises(runner.ValidationError) as err:
        runner.resolve_parameters(runner.load_profile("bad"), ["alpha", "beta"])
    assert any("gamma" in p and "not in the book" in p for p in err.value.problems)
    assert any(p.startswith("zz (in ") and "declared by no notebook" in p
               for p in err.value.problems)
    (book / "profiles" / "worse.yml").write_text("name: w\nexecutors: {}\n")
    with pytest.raises(runner.ProfileError, match="unknown key.* executors; allowed: name"):
        runner.load_profile("worse")


# ----------------------------------------------------------------------------- executor flags

def test_executor_options_from_profile_then_command_line():
    opts = runner.executor_options({"kind": "slurm", "partition": "gpu", "gpus_per_job": 1},
                                   kind=None, jobs=4, array_parallelism=8)
    assert opts == runner.ExecutorSettings("slurm", 4, "gpu", 1, 8)
    unset = {"EMO_SLURM_CPUS_PER_TASK": None, "EMO_SLURM_MEM_GB": None,
             "EMO_SLURM_TIMEOUT_MIN": None}
    assert opts.environment() == {"EMO_EXECUTOR": "slurm", "EMO_JOBS": "4",
                                  "EMO_SLURM_PARTITION": "gpu", "EMO_GPUS_PER_JOB": "1",
                                  "EMO_ARRAY_PARALLELISM": "8"} | unset
    assert runner.executor_options().environment() == {
        "EMO_EXECUTOR": "inline", "EMO_JOBS": None, "EMO_SLURM_PARTITION": None,
        "EMO_GPUS_PER_JOB": None, "EMO_ARRAY_PARALLELISM": None} | unset
    assert runner.executor_options({"mem_gb": 32}, cpus_per_task=8, timeout_min=60) \
        .environment() | {"EMO_EXECUTOR": None} == {
            "EMO_EXECUTOR": None, "EMO_JOBS": None, "EMO_SLURM_PARTITION": None,
            "EMO_GPUS_PER_JOB": None, "EMO_ARRAY_PARALLELISM": None,
            "EMO_SLURM_CPUS_PER_TASK": "8", "EMO_SLURM_MEM_GB": "32",
            "EMO_SLURM_TIMEOUT_MIN": "60"}
    with pytest.raises(runner.RunnerError,
                       match="executor: cluster is not one of the choices inline, local, slurm"):
        runner.executor_options(kind="cluster")
    with pytest.raises(runner.RunnerError, match="jobs: 0 is not an integer >= 1"):
        runner.executor_options(jobs=0)
    with pytest.raises(ValueError, match="unknown key.* queue; allowed: kind, jobs"):
        runner.executor_options({"queue": "x"})


def test_bad_executor_flag_stops_build_before_anything(book, capsys):
    assert runner.main(["build", "--profile", "p", "--executor", "cloud", "--no-book"]) == 2
    err = capsys.readouterr().err
    assert "executor: cloud is not one of the choices inline, local, slurm" in err
    assert not (book / "executed").exists()


# ----------------------------------------------------------------------------- real runs (slow)

def _outputs(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


@pytest.mark.slow
def test_run_writes_its_own_folder(book, capsys):
    out = book / "myrun"
    assert runner.main(["run", "alpha", "-p", "x=42", "--out", str(out), "--quiet",
                        "--executor", "local", "--jobs", "2"]) == 0
    nb = nbformat.read(out / "alpha.ipynb", as_version=4)
    seen = json.loads(_outputs(nb).split("seen ", 1)[1])
    assert seen == {"x": 42, "profile": None, "executor": "local", "jobs": "2",
                    "results": str(out / "results")}
    tagged = {t for c in nb.cells for t in c.metadata.get("tags", [])
              if "remove-cell" in c.metadata.get("tags", [])}
    assert {"parameters", "injected-parameters"} <= tagged
    assert nb.metadata["emo_book"]["status"] == "ok"
    assert not (book / "executed").exists()  # never touches the book's copies
    assert str(out) in capsys.readouterr().out


@pytest.mark.slow
def test_build_reports_failing_cell_and_keeps_the_others(book, capsys):
    code = runner.main(["build", "--profile", "p", "--no-book", "--quiet"])
    assert code == 1
    captured = capsys.readouterr()
    assert "beta: failed" in captured.out and "ValueError: boom 2" in captured.out
    assert "cell" in captured.out
    alpha = nbformat.read(book / "executed" / "alpha.ipynb", as_version=4)
    assert json.loads(_outputs(alpha).split("seen ", 1)[1])["profile"] == "p"
    assert (book / "executed" / "beta.ipynb").exists()    # the failed copy shows where it stopped
    beta = json.loads((book / "executed" / "beta.ipynb").read_text())
    assert beta["metadata"]["emo_book"]["status"] == "failed"
