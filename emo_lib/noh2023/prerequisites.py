"""Paper 1's build prerequisites (:mod:`emo_lib.prerequisites`): the stand-in of each training
seed, which every paper-1 page reads, and the explanation page's composition stand-ins. Each
is asked for as the page asks for it (:func:`.seeded.seeded_options`,
:func:`.explanation.composition_runs`), so the page finds it in the cache. Another model
(HSEmotion's, on the paper profile) is read, not trained: nothing to prepare."""
from __future__ import annotations

from typing import Any, Mapping

from ..models.standin import prerequisite as standin_prerequisite
from ..planning import register_prerequisites
from ..prerequisites import Prerequisite
from ..seeds import check_seeds
from .composition import prerequisite as composition_prerequisite
from .explanation import composition_runs
from .seeded import seeded_options

#: Every paper-1 page reads the seed's stand-in.
PAGES: tuple[str, ...] = ("noh2023_age_accuracy", "noh2023_gender_accuracy", "noh2023_lime_age",
                          "noh2023_lime_gender", "noh2023_additional_training",
                          "noh2023_explanation")


@register_prerequisites(*PAGES)
def page_needs(notebook: str, params: Mapping[str, Any]) -> list[Prerequisite]:
    """The stand-in per training seed (``seeds``; a stand-in whose options fix a seed: one),
    and on the explanation page one prerequisite per seed for its composition stand-ins."""
    model, device = params["model"], str(params["device"])
    if model != "standin":
        return []
    seeds = check_seeds(list(params["seeds"]))
    needs = [standin_prerequisite(seeded_options(model, params["model_options"], s), device)
             for s in seeds]
    if notebook == "noh2023_explanation":
        runs = composition_runs(seeds, child_shares=params["child_shares"],
                                skewed_male_share=params["skewed_male_share"],
                                pretraining=params["pretraining"], pools=params["pools"],
                                image_size=params["image_size"])
        needs += [composition_prerequisite(sets, options, device)
                  for sets, options in runs.values()]
    return list({need.key: need for need in needs}.values())   # a fixed seed: one each


__all__ = ["PAGES", "page_needs"]
