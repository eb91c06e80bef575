"""Prerequisites: what pages need computed first, run in any lane (emo_lib.prerequisites,
emo_lib.runner.schedule, emo_lib.runner.prepare).

The schedule is checked with fake tasks that record when they start and end; the providers
against the pages' own calls (after a provider's prerequisites ran, the page's call finds every
entry in the cache), on tiny budgets of the real generator; the subprocess path once for real.
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from emo_lib import prerequisites
from emo_lib.models import face_pretraining, load_model, standin
from emo_lib.noh2023 import prerequisites as noh_prerequisites
from emo_lib.noh2023.composition import composition_standins
from emo_lib.noh2023.explanation import composition_runs
from emo_lib.noh2023.seeded import seeded_options
from emo_lib.prerequisites import PrerequisiteError
from emo_lib.runner.parameters import merged_parameters
from emo_lib.runner.prepare import prepare
from emo_lib.runner.schedule import Schedule

# ------------------------------------------------------------------------------- the schedule


class Clock:
    """Fake tasks: each sleeps ``seconds[name]`` and logs (event, name, lane)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds, self.log, self.lock = seconds, [], threading.Lock()

    def task(self, name: str) -> str:
        with self.lock:
            self.log.append(("start", name))
        time.sleep(self.seconds.get(name, 0.01))
        with self.lock:
            self.log.append(("end", name))
        return name

    def index(self, event: str, name: str) -> int:
        return self.log.index((event, name))


def test_prerequisites_first_costliest_first_and_pages_wait_for_their_own():
    clock = Clock({"big": 0.3, "small": 0.05, "a1": 0.05})
    schedule = Schedule([["a1", "a2"], ["b1"]], ["big", "small"],
                        {"a1": ["small"], "a2": [], "b1": ["big"]})
    pre, pages = schedule.run(2, clock.task, clock.task)
    assert set(pre) == {"big", "small"} and set(pages) == {"a1", "a2", "b1"}
    assert clock.log[:2] == [("start", "big"), ("start", "small")]   # costliest first, at once
    assert clock.index("start", "a1") > clock.index("end", "small")
    assert clock.index("start", "b1") > clock.index("end", "big")
    # a1 did not wait for big (not its own): it ran while big was still running
    assert clock.index("start", "a1") < clock.index("end", "big")
    # a chain's pages run in order, never two at once
    assert clock.index("start", "a2") > clock.index("end", "a1")


def test_one_lane_runs_everything_in_order():
    clock = Clock({})
    Schedule([["a1", "a2"], ["b1"]], ["p"], {"a2": ["p"]}).run(1, clock.task, clock.task)
    assert [n for e, n in clock.log if e == "start"] == ["p", "a1", "a2", "b1"]


def test_a_page_that_raises_stops_its_chain_and_is_reraised():
    clock = Clock({})

    def page(name: str) -> str:
        if name == "a1":
            raise RuntimeError("a1 broke")
        return clock.task(name)

    with pytest.raises(RuntimeError, match="a1 broke"):
        Schedule([["a1", "a2"], ["b1"]], [], {}).run(2, clock.task, page)
    started = [n for e, n in clock.log if e == "start"]
    assert "a2" not in started and "b1" in started


# ------------------------------------------------------------------------------ the registry


def test_run_refuses_targets_outside_the_whitelist():
    for target, why in (("os:system", "is not '<emo_lib module>:<function>'"),
                        ("emo_lib.stats:bootstrap_ci", "not registered")):
        with pytest.raises(PrerequisiteError, match=why):
            prerequisites.run(json.dumps({"target": target, "kwargs": {}}))


def test_same_target_and_arguments_are_one_prerequisite():
    a = prerequisites.Prerequisite("emo_lib.x:f", {"b": 1, "a": 2}, "one", 1.0)
    b = prerequisites.Prerequisite("emo_lib.x:f", {"a": 2, "b": 1}, "other label", 5.0)
    assert a.key == b.key


# ---------------------------------------------------- providers against the pages' own calls

TINY_STANDIN = {"size": 32, "n": 42, "epochs": 1}


def _explanation_params(**changes):
    params = merged_parameters("noh2023_explanation", {
        "model_options": TINY_STANDIN, "seeds": [0, 1], "image_size": 32,
        "child_shares": [0.0, 0.3], "pretraining": {"size": 32, "n": 42, "epochs": 1},
        "pools": {"adult_pool": 70, "child_pool": 21}})
    return params | changes


def test_paper1_provider_asks_for_what_the_pages_load(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    params = _explanation_params()
    needs = noh_prerequisites.page_needs("noh2023_explanation", params)
    assert [n.label for n in needs] == ["stand-in (seed 0)", "stand-in (seed 1)",
                                        "3 composition stand-ins (seed 0)",
                                        "3 composition stand-ins (seed 1)"]
    for need in needs:
        prerequisites.run(need.key)
    for s in params["seeds"]:   # the pages' own calls (seeded.setup_seeds, explanation_by_seed)
        net = load_model("standin", device="cpu",
                         **seeded_options("standin", params["model_options"], s))
        assert net.info["cache"] == "hit"
    runs = composition_runs(params["seeds"], child_shares=params["child_shares"],
                            skewed_male_share=params["skewed_male_share"],
                            pretraining=params["pretraining"], pools=params["pools"],
                            image_size=params["image_size"])
    for sets, options in runs.values():
        assert all(net.info["cache"] == "hit"
                   for _, net in composition_standins(sets, model_options=options))
    # a seed fixed by the options: one stand-in for every seed; another model: nothing
    fixed = noh_prerequisites.page_needs("noh2023_age_accuracy", merged_parameters(
        "noh2023_age_accuracy", {"model_options": {**TINY_STANDIN, "seed": 3},
                                 "seeds": [0, 1]}))
    assert [n.label for n in fixed] == ["stand-in (seed 3)"]
    assert noh_prerequisites.page_needs("noh2023_age_accuracy", merged_parameters(
        "noh2023_age_accuracy", {"model": "hsemotion:enet_b0_7"})) == []


def test_paper2_provider_asks_for_every_backbone_the_grid_fine_tunes(tmp_path, monkeypatch):
    from emo_lib.jeong2021 import prerequisites as jeong_prerequisites
    from emo_lib.jeong2021.cells import known_weights_source
    from emo_lib.jeong2021.plan import PAGES, page_grid

    tiny = {"size": 32, "n": 70, "epochs": 1}
    labels = {}
    for page in PAGES:
        monkeypatch.setenv("EMO_CACHE", str(tmp_path / page))   # each page on its own
        params = merged_parameters(page, {"pretraining": tiny})
        needs = jeong_prerequisites.page_needs(page, params)
        labels[page] = [n.label.rsplit(" ", 1)[-1] for n in needs]
        grid = page_grid(page, params)
        assert all(known_weights_source(c["model"], grid.weights, grid.pretraining or None)
                   is None for c in grid.cells)   # nothing cached yet
        for need in needs:
            prerequisites.run(need.key)
        assert all(known_weights_source(c["model"], grid.weights, grid.pretraining or None)
                   for c in grid.cells)           # every cell's initial weights: cached
        assert jeong_prerequisites.page_needs(
            page, merged_parameters(page, {"weights": "imagenet"})) == []
    assert labels["jeong2021_augmentation_sweep"] == ["mobilenet_v3_small", "resnet18_narrow"]
    assert "mobilenet_v3_small_s2" in labels["jeong2021_model_scaling"]
    # cost orders them: the largest compound-scaled member first
    costs = {n.label: n.cost for n in jeong_prerequisites.page_needs(
        "jeong2021_model_scaling", merged_parameters("jeong2021_model_scaling", {}))}
    assert max(costs, key=costs.get).endswith("mobilenet_v3_small_s2")
    assert face_pretraining.pretrain.__module__ == "emo_lib.models.face_pretraining"


def test_prepare_runs_a_prerequisite_in_a_process_of_its_own(tmp_path, monkeypatch):
    import sys

    import torch

    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    # the thread count is part of the cache key: the process computes with this one's, as a
    # build's prerequisites compute with its kernels' (OMP_NUM_THREADS for both)
    monkeypatch.setenv("OMP_NUM_THREADS", str(torch.get_num_threads()))
    need = standin.prerequisite({**TINY_STANDIN, "seed": 0})
    first = prepare(need, sys.executable, ["noh2023_age_accuracy"])
    assert first.status == "computed", first.note
    again = prepare(need, sys.executable, ["noh2023_age_accuracy"])
    assert again.status == "cached" and again.record()["pages"] == ["noh2023_age_accuracy"]
    assert load_model("standin", device="cpu", seed=0, **TINY_STANDIN).info["cache"] == "hit"
    broken = prerequisites.Prerequisite(need.target, {"device": "cpu", "size": "big"}, "bad")
    failed = prepare(broken, sys.executable, ["p"])
    assert failed.status == "failed" and "compute it themselves" in failed.note


def test_a_provider_that_fails_leaves_its_page_to_compute_its_own(monkeypatch):
    from emo_lib import planning

    need = prerequisites.Prerequisite("emo_lib.x:f", {}, "f", 1.0)

    def provider(page, params):
        if page == "bad":
            raise KeyError("model")
        return [need]

    monkeypatch.setattr(planning, "page_prerequisites", provider)
    seen = []
    found, needs = planning.book_prerequisites({"good": {}, "bad": {}},
                                               on_error=lambda p, e: seen.append((p, e)))
    assert found == [need] and needs == {"good": [need.key]} and seen[0][0] == "bad"
    with pytest.raises(KeyError):
        planning.book_prerequisites({"bad": {}})
