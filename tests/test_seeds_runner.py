"""The runner's seeds: a profile's top-level ``seeds`` and ``--seeds`` set the ``seeds``
parameter of every page that declares it, say which pages take it, and refuse what cannot
work, before anything runs."""
import argparse

import pytest

from emo_lib import runner
from emo_lib.runner import cli
from tinybook import make_book, write_notebook


@pytest.fixture
def book(tmp_path, monkeypatch):
    root = make_book(tmp_path / "book", monkeypatch)
    write_notebook(root / "notebooks" / "gamma.ipynb", "seeds = [0]  # seeds\nx = 1",
                   "print(seeds)")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: executed/alpha\n  - file: executed/beta\n"
                                   "  - file: executed/gamma\n")
    return root


def _profile(book, text, name="s"):
    (book / "profiles" / f"{name}.yml").write_text(f"name: {name}\n" + text)
    return runner.load_profile(name)


def test_profile_seeds_reach_only_the_pages_that_take_them(book):
    profile = _profile(book, "seeds: [0, 1, 2]\n")
    params = runner.resolve_parameters(profile, ["alpha", "beta", "gamma"], check_data=[])
    assert params["gamma"] == {"seeds": [0, 1, 2]} and "seeds" not in params["alpha"]
    # the profile's notebooks entry and -p still win over the top-level key
    profile = _profile(book, "seeds: [0, 1, 2]\nnotebooks:\n  gamma: {seeds: [5]}\n")
    assert runner.resolve_parameters(profile, ["gamma"], check_data=[])["gamma"]["seeds"] == [5]
    over = [runner.seeds_override("3,4"), *runner.parse_overrides(["gamma.seeds=[7]"])]
    assert runner.resolve_parameters(profile, ["gamma"], over, check_data=[])["gamma"] == \
        {"seeds": [7]}


@pytest.mark.parametrize("text,match", [("seeds: [0, 0]\n", "repeats"),
                                        ("seeds: [a]\n", "not a non-negative integer"),
                                        ("seeds: []\n", "non-empty")])
def test_bad_profile_seeds_name_the_file(book, text, match):
    with pytest.raises(runner.ProfileError, match=match):
        _profile(book, text)


def test_profile_seeds_with_no_page_taking_them(book):
    profile = _profile(book, "seeds: [0, 1]\n")
    with pytest.raises(runner.ValidationError, match="taken by no notebook"):
        runner.resolve_parameters(profile, ["alpha", "beta"], check_data=[])


def test_seeds_option_parsing_and_conflicts():
    assert runner.parse_seeds("0,1, 2") == [0, 1, 2]
    for bad in ("0,x", "1,1", "-1"):
        with pytest.raises(runner.ProfileError, match="--seeds"):
            runner.parse_seeds(bad)
    o = runner.seeds_override("0,1")
    assert (o.notebook, o.key, o.value, o.source) == (None, "seeds", [0, 1], "--seeds 0,1")
    with pytest.raises(runner.ProfileError, match="give one of them"):
        runner.seeds_override("0,1", runner.parse_overrides(["seeds=[2]"]))


def test_the_runner_says_which_pages_take_seeds(book, capsys):
    args = argparse.Namespace(param=None, seeds="0,1,2")
    overrides = cli._overrides(args)
    cli._say_seeds(runner.load_profile("p"), ["alpha", "beta", "gamma"], overrides)
    out = capsys.readouterr().out
    assert "seeds: claims computed per seed, [0, 1, 2] on gamma (2 other pages take no seeds)" \
        in out
    with pytest.raises(runner.ValidationError, match="none of alpha takes seeds; the pages that "
                                                     "do: gamma"):
        cli._say_seeds(runner.load_profile("p"), ["alpha"], overrides)


def test_run_refuses_seeds_on_a_page_without_them_before_any_kernel(book, capsys):
    assert runner.main(["run", "alpha", "--seeds", "0,1"]) == 2
    assert "none of alpha takes seeds" in capsys.readouterr().err
    assert runner.main(["build", "--profile", "p", "--seeds", "0,q", "--no-book"]) == 2
    assert "--seeds 0,q" in capsys.readouterr().err
