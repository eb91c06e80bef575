"""Which of paper 1's verdicts the synthetic generator sets by design ("by construction"), and
the setting that does it.

On the synthetic default some outcomes are not findings: children are drawn with weaker,
noisier, less complete expressions and child proportions, and CAFE-like sets with alternating
open and closed mouths, so the model reads them worse; gender never acts through the
expression, so male and female faces are read alike. :data:`BY_CONSTRUCTION` maps each claim
whose outcome a generator setting decides to that setting; :func:`tag` fills the claims
contract's ``tags`` and ``construction`` columns (CONTRACTS.md) of any paper-1 claims table
(every paper-1 page calls it). Each sentence names the setting with its values, read from the
generator's constants, and links the condition of the explanation page
(``noh2023_explanation``) that removes it or tests it.

Which claims are listed is a finding of that page, not an assumption: the age claims because
drawing every difference as the adolescents' closes the gap (its claim
``explanation_redraw_closes``), the gender claims because a training set skewed to 90 % men
leaves the gender gap where it was (``explanation_gender``). :func:`tag_evidence` shows, for a
run of that page, whether its verdicts still confirm each tag; with several seeds, in how many
of them (a tag that only some seeds confirm is not called confirmed). Claims the page does not test
(the LIME maps, the additional training) carry no tag.

Real data carries no tag: ``tag(..., synthetic=False)`` leaves the columns empty.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ..data.synthetic.mechanisms import age_differences, mechanism_compare
from ..data.synthetic.population import GENDER_BROW_THICKNESS, GENDER_FACE_WIDTH, GENDER_JAW
from ..seeds import stability_label
from ..verdicts import CONTRADICTED, SUPPORTED
from .explanation import GENDER_LABEL, REDRAW_LABEL

TAG = "by construction"
PAGE = "noh2023_explanation"


@dataclass(frozen=True)
class Construction:
    """One generator setting that decides some claims: the sentence naming it, the explanation
    page's claim whose verdict is the evidence, and the verdict that confirms it."""

    setting: str
    evidence_claim: str
    confirmed_by: str


def _age() -> Construction:
    styles = ", ".join(mechanism_compare(m) for m in age_differences("child", "adolescent"))
    return Construction(
        setting=("The generator draws children and adolescents differently by design "
                 f"(children vs adolescents: {styles}) and draws CAFE-like sets with "
                 "alternating open and closed mouths; {ref}`with all of these drawn as the "
                 f"adolescents' <{REDRAW_LABEL}>` the gap is measured again."),
        evidence_claim="explanation_redraw_closes", confirmed_by=SUPPORTED)


def _gender() -> Construction:
    return Construction(
        setting=("The generator never lets gender act through the expression (one expression "
                 "style per age group; gender changes only the jaw, "
                 f"+{GENDER_JAW['male'] - GENDER_JAW['female']:g} squareness for men, the brows, "
                 f"{GENDER_BROW_THICKNESS['male']:g} vs {GENDER_BROW_THICKNESS['female']:g} "
                 f"thick, the face width, +{GENDER_FACE_WIDTH['male']:g}, and the hair), so men "
                 "and women pose alike; {ref}`a training set skewed in gender "
                 f"<{GENDER_LABEL}>` tests whether the training split can change that."),
        evidence_claim="explanation_gender", confirmed_by=CONTRADICTED)


#: Claim id -> (page, kind of construction). Ids as the pages write them.
BY_CONSTRUCTION: dict[str, tuple[str, str]] = {
    "cafe_overall_lower": ("noh2023_age_accuracy", "age"),
    "shared_gaps_large": ("noh2023_age_accuracy", "age"),
    "cafe_small_gaps": ("noh2023_gender_accuracy", "gender"),
    "cafe_fear_exception": ("noh2023_gender_accuracy", "gender"),
    "cafe_overall_gender": ("noh2023_gender_accuracy", "gender"),
    "nimh_chefs_small_gaps": ("noh2023_gender_accuracy", "gender"),
    "nimh_chefs_neutral_exception": ("noh2023_gender_accuracy", "gender"),
    "nimh_chefs_overall_gender": ("noh2023_gender_accuracy", "gender"),
    "explanation_gender": (PAGE, "gender"),
}


def constructions() -> dict[str, Construction]:
    """Kind -> :class:`Construction`, its sentence built from the generator's constants now."""
    return {"age": _age(), "gender": _gender()}


def construction_text(claim_id: str) -> str:
    """The sentence of ``claim_id``'s setting (MyST, with its link); "" when it has none."""
    entry = BY_CONSTRUCTION.get(claim_id)
    return constructions()[entry[1]].setting if entry else ""


def tag(claims: pd.DataFrame, *, synthetic: bool) -> pd.DataFrame:
    """``claims`` (a claims table indexed by ``claim_id``) with the contract's ``tags`` and
    ``construction`` columns (added when missing): on synthetic data, "by construction" joined
    to the tags of every claim in :data:`BY_CONSTRUCTION` and its setting's sentence in
    ``construction``; on real data nothing is tagged."""
    out = claims.copy()
    for col in ("tags", "construction"):
        if col not in out.columns:
            out[col] = ""
        out[col] = out[col].fillna("").astype(str)
    if not synthetic:
        return out
    texts = constructions()
    for claim_id in out.index:
        entry = BY_CONSTRUCTION.get(str(claim_id))
        if entry is None:
            continue
        tags = [t.strip() for t in out.at[claim_id, "tags"].split(";") if t.strip()]
        if TAG not in tags:
            tags.insert(0, TAG)
        out.at[claim_id, "tags"] = "; ".join(tags)
        out.at[claim_id, "construction"] = texts[entry[1]].setting
    return out


def tag_evidence(explanation: pd.DataFrame | Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """Per tagged claim: its page, the setting's kind, the explanation page's claim that is the
    evidence, that claim's verdict in this run and whether it confirms the tag (a tag this run
    does not confirm is shown as such, never dropped).

    ``explanation``: the explanation page's claims table, or one per seed (``{seed: table}``).
    With several seeds the verdict is the stability label (:func:`emo_lib.seeds.
    stability_label`: "stable: contradicted in 3 of 3", "varies: supported 2, inconclusive
    1"), ``confirmed`` is True only when every seed confirms the tag, and ``confirmed in``
    says in how many ("2 of 3 seeds": confirmed by some seeds, not by all)."""
    tables = {0: explanation} if isinstance(explanation, pd.DataFrame) else dict(explanation)
    if not tables:
        raise ValueError("tag_evidence: no claims table (give the explanation page's claims, "
                         "or one table per seed)")
    several = len(tables) > 1
    kinds = constructions()
    rows = []
    for claim_id, (page, kind) in BY_CONSTRUCTION.items():
        c = kinds[kind]
        verdicts = [str(t["verdict"].get(c.evidence_claim, "")) if c.evidence_claim in t.index
                    else "not run" for t in tables.values()]
        agree = sum(v == c.confirmed_by for v in verdicts)
        row = {"claim_id": claim_id, "page": page, "setting": kind,
               "evidence": c.evidence_claim,
               "evidence verdict": stability_label(verdicts) if several else verdicts[0],
               "confirmed": agree == len(verdicts)}
        if several:
            row["confirmed in"] = f"{agree} of {len(verdicts)} seeds"
        rows.append(row)
    return pd.DataFrame(rows)


def settings_markdown() -> str:
    """One bullet per generator setting that decides claims: the claims and the sentence."""
    lines = []
    for kind, c in constructions().items():
        ids = ", ".join(f"`{i}`" for i, (_, k) in BY_CONSTRUCTION.items() if k == kind)
        lines.append(f"- {ids}: {c.setting}")
    return "\n".join(lines)


def evidence_sentence(evidence: pd.DataFrame, *, synthetic: bool) -> str:
    """How many tags this run confirms (:func:`tag_evidence`), or that real data has none; with
    several seeds, how many every seed confirms and how many only some seeds do."""
    if not synthetic:
        return "On real data no verdict is by construction: nothing is tagged."
    n, k = len(evidence), int(evidence["confirmed"].sum())
    if "confirmed in" not in evidence.columns:
        return (f"{k} of {n} \"by construction\" tags are confirmed by this run"
                + ("." if k == n else "; the others are shown above as not confirmed."))
    some = int((~evidence["confirmed"].astype(bool)
                & ~evidence["confirmed in"].str.startswith("0 of ")).sum())
    text = f"{k} of {n} \"by construction\" tags are confirmed by every seed"
    if k == n:
        return text + "."
    parts = []
    if some:
        parts.append(f"{some} only by some seeds (so not confirmed: the verdict they rest on "
                     "varies with the seed)")
    if n - k - some:
        parts.append(f"{n - k - some} by none")
    return text + "; " + " and ".join(parts) + ", as shown above."


__all__ = ["BY_CONSTRUCTION", "Construction", "PAGE", "TAG", "construction_text",
           "constructions", "evidence_sentence", "settings_markdown", "tag", "tag_evidence"]
