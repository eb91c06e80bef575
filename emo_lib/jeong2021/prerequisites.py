"""Paper 2's build prerequisites (:mod:`emo_lib.prerequisites`): the synthetic-face pretraining
of every backbone a page's grid fine-tunes (:func:`.plan.page_grid`: the same cells and budget
the page trains), each cached once for every page and seed. With ImageNet weights (the paper
profile) nothing is trained before the pages."""
from __future__ import annotations

from typing import Any, Mapping

from ..models import face_pretraining
from ..planning import register_prerequisites
from ..prerequisites import Prerequisite
from .plan import PAGES, page_grid


@register_prerequisites(*PAGES)
def page_needs(notebook: str, params: Mapping[str, Any]) -> list[Prerequisite]:
    """One pretraining per distinct backbone of the page's cells, in the order they train."""
    grid = page_grid(notebook, params)
    if grid.weights != face_pretraining.WEIGHTS_NAME:
        return []
    archs = dict.fromkeys(cell["model"] for cell in grid.cells)
    return [face_pretraining.prerequisite(arch, grid.pretraining or None) for arch in archs]


__all__ = ["page_needs"]
