"""NIMH-ChEFS, the NIMH Child Emotional Faces Picture Set (Egger et al. 2011): ages 10-17.

File names encode everything: ``M10HS_6767.jpg`` is gender ``M``, subject ``10``, expression
``H`` (happy), gaze letter ``S``, then a picture number. Our reading of the letters after the
subject number is *expression, then gaze*:

- expression: ``A`` angry, ``F`` fear (afraid), ``H`` happy, ``N`` neutral, ``S`` sad;
- gaze: ``S`` or ``D`` direct, ``A`` averted. The published examples (``M10HS``, ``M10NS``,
  ``M10SS``, all direct-gaze stimuli) end in ``S``, read as "straight"; ``A`` for averted is
  the set's description (direct and averted gaze), not verified on the release. Any other
  letter is an exclusion naming it; ``gaze_codes={"X": "averted"}`` corrects the table.

A name without a gaze letter (``M10H_1.jpg``) takes its gaze from a parent folder called
``direct``/``averted`` (any case, e.g. ``Averted gaze``) if there is one, else ``unknown``.
Names that do not follow the pattern, and unknown letters, are exclusions with the reason.
Both gazes are kept by default (the paper used all 534 images).

A set without some of the five expressions stops the run with an error naming them; with
``allow_missing_classes=True`` it runs, the classes stay the five of the paper and
``meta["missing_classes"]`` names the empty ones (the data page lists them).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from ..images import DEFAULT_MAX_PIXELS
from ..manifest import Manifest
from ...validation import check_choice, check_choices
from ..registry import DatasetInfo, register_dataset
from ._scan import Collected, finish, list_image_files

INFO = DatasetInfo(
    name="nimh_chefs",
    title="NIMH Child Emotional Faces Picture Set (NIMH-ChEFS; Egger et al. 2011), ages 10-17",
    env_var="NIMH_CHEFS_ROOT",
    source=("by request from the NIMH-ChEFS authors (Egger et al. 2011, Int. J. Methods "
            "Psychiatr. Res. 20(3)); see https://psychiatry.duke.edu/research/research-programs-"
            "areas/assessment-intervention/developmental-epidemiology-instruments-6"),
)

CLASSES: tuple[str, ...] = ("angry", "fear", "happy", "neutral", "sad")
EXPRESSION_CODES: dict[str, str] = {"A": "angry", "F": "fear", "H": "happy", "N": "neutral",
                                    "S": "sad"}
GAZE_CODES: dict[str, str] = {"S": "direct", "D": "direct", "A": "averted"}
GAZES = ("direct", "averted")

NAME_PATTERN = re.compile(
    r"^(?P<gender>[MF])(?P<subject>\d+)(?P<expr>[A-Z])(?P<gaze>[A-Z])?(?:[_\-\s.].*)?$",
    re.IGNORECASE,
)
_EXAMPLE = "<M|F><subject><expression><gaze>_<number>, e.g. M10HS_6767.jpg"


def _folder_gaze(path: Path, root: Path) -> str | None:
    found = {g for d in path.relative_to(root).parts[:-1] for g in GAZES if g in d.lower()}
    return found.pop() if len(found) == 1 else None


def parse_name(path: Path, root: Path, gaze_codes: Mapping[str, str]
               ) -> tuple[dict[str, str] | None, str | None]:
    """(row values, None) or (None, exclusion reason) for one file."""
    m = NAME_PATTERN.match(path.stem)
    if not m:
        return None, f"file name {path.name!r} does not follow {_EXAMPLE}"
    expr = m["expr"].upper()
    if expr not in EXPRESSION_CODES:
        return None, (f"unknown expression letter {expr!r} in {path.name!r} (known: "
                      f"{EXPRESSION_CODES})")
    folder = _folder_gaze(path, root)
    if m["gaze"]:
        letter = m["gaze"].upper()
        if letter not in gaze_codes:
            return None, (f"unknown gaze letter {letter!r} in {path.name!r} (known: "
                          f"{dict(gaze_codes)}; pass gaze_codes=... to read it)")
        gaze = gaze_codes[letter]
        if folder is not None and folder != gaze:
            return None, (f"gaze letter {letter!r} ({gaze}) in {path.name!r} contradicts its "
                          f"folder ({folder})")
    else:
        gaze = folder or "unknown"
    gender = "male" if m["gender"].upper() == "M" else "female"
    return {"label": EXPRESSION_CODES[expr], "gender": gender, "gaze": gaze,
            "subject_id": f"{m['gender'].upper()}{int(m['subject'])}",
            "code": m.group(0).split("_")[0].upper()}, None


@register_dataset("nimh_chefs", INFO)
def load_nimh_chefs(root: Path, *, gaze: str | None = None,
                    gaze_codes: Mapping[str, str] | None = None,
                    allow_missing_classes: bool = False, check: bool = True,
                    max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
                    progress: bool = True) -> Manifest:
    """NIMH-ChEFS as a Manifest (5 classes, ``age_group`` adolescent, ``gaze`` column).

    Args:
        gaze: keep only ``"direct"`` or ``"averted"`` images (others become exclusions with
            reason "gaze filter ..."); None keeps both, as the paper did.
        gaze_codes: gaze letter -> ``"direct"``/``"averted"``; replaces :data:`GAZE_CODES`.
        allow_missing_classes: run on part of the set: an expression with no image is named
            in ``meta["missing_classes"]`` instead of stopping the run (default: a
            ManifestError naming the missing classes and this option).
    """
    check_choice("gaze (null: both)", gaze, (*GAZES, None))
    codes = {k.upper(): v for k, v in (gaze_codes or GAZE_CODES).items()}
    check_choices("gaze_codes' gazes", codes.values(), GAZES)
    root = Path(root)
    files, others = list_image_files(root)
    out = Collected()
    for p in files:
        values, reason = parse_name(p, root, codes)
        if values is None:
            out.exclude(p, reason or "unreadable name")
        elif gaze is not None and values["gaze"] != gaze:
            out.exclude(p, f"gaze filter: gaze {values['gaze']}, kept only {gaze}")
        else:
            out.add(p, **values)
    meta = {"layout": "file names", "other_files": others, "gaze_filter": gaze,
            "gaze_codes": codes}
    return finish(out, name="nimh_chefs", root=root, classes=CLASSES, fixed_classes=True,
                  allow_missing_classes=allow_missing_classes,
                  missing_hint="pass allow_missing_classes=True to run on part of the set",
                  defaults={"age_group": "adolescent"}, meta=meta, check=check,
                  max_pixels=max_pixels, cache=cache, progress=progress)
