"""The paper's numbers that the paper-1 pages quote in their prose, read from
``book/paper_values.yaml`` (:mod:`emo_lib.paper`) so that no page types one by hand: a page
glues :func:`paper_quotes` and writes ``{glue:text}`paper_cafe_overall:.3f```.

Only the numbers the prose names; the tables beside the run's numbers come from
:mod:`.accuracy` and :mod:`.training`.
"""
from __future__ import annotations

from .. import paper
from .accuracy import GENDER_GAP_THRESHOLD, paper_accuracy_table, paper_gender_exceptions
from .names import CAFE, PAPER


def paper_quotes() -> dict[str, float | int | str]:
    """Name -> value of every paper number a paper-1 page's prose quotes (the names start with
    ``paper_``)."""
    v = paper.paper_value
    fig3 = v(f"{PAPER}.fig3_accuracy_pretrained")
    fig5 = v(f"{PAPER}.fig5_cafe_after_additional_training")
    fig6 = v(f"{PAPER}.fig6_nimh_after_additional_training")
    lime = v(f"{PAPER}.lime")
    out: dict[str, float | int | str] = {
        "paper_cafe_overall": fig3["cafe"]["overall"],
        "paper_nimh_overall": fig3["nimh_chefs"]["overall"],
        "paper_gender_threshold": GENDER_GAP_THRESHOLD,
        "paper_fig5_before": fig5["before"]["overall"],
        "paper_fig5_after": fig5["after"]["overall"],
        "paper_fig6_angry_before": fig6["before"]["angry"],
        "paper_fig6_angry_after": fig6["after"]["angry"],
        "paper_fig6_sad_before": fig6["before"]["sad"],
        "paper_fig6_sad_after": fig6["after"]["sad"],
        "paper_lime_images": int(lime["images_per_class"]),
        "paper_lime_excluded": ", ".join(lime["excluded_classes"]),
    }
    for e in lime["exceptions"]:
        out[f"paper_lime_{e['dataset']}_{e['gender']}_{e['class']}"] = int(e["images"])
    gender = paper_accuracy_table("gender")
    for ds, classes in paper_gender_exceptions().items():
        key = "cafe" if ds == CAFE else "nimh"
        for c in classes:
            wide = gender[(gender["dataset"] == ds) & (gender["class"] == c)] \
                .set_index("gender")["accuracy"]
            out[f"paper_{key}_{c}_gap"] = float(abs(wide["male"] - wide["female"]))
    return out


__all__ = ["paper_quotes"]
