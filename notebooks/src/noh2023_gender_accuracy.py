# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Tables 3-4: accuracy by gender
#
# Noh & Lim {cite}`noh2023` split the same predictions by gender. Their Tables 3 (CAFE) and 4
# (NIMH-ChEFS) give the correct answers and the accuracy per gender and class. They read them
# as "little difference": at most {glue:text}`paper_gender_threshold` between boys and girls in
# every class but CAFE fear ({glue:text}`paper_cafe_fear_gap:.3f`) and NIMH-ChEFS neutral
# ({glue:text}`paper_nimh_neutral_gap:.3f`), and explain it by the pretraining set's gender
# balance. This page recomputes both tables with intervals, tests every male/female gap and
# checks each claim as what it is: "at most 0.2 apart" and "differ little" are claims of no
# (large) difference, so they need an equivalence test; "the exception" is a claim that a gap
# exceeds 0.2, so it is tested against 0.2, not against zero. The claims are computed once per
# seed in `seeds` (each seed trains the stand-in anew; the figures are the first seed's).
#
# *Computed in* {glue:text}`page_seconds:.0f` s in this build (profile
# {glue:text}`page_profile:s`; kernel start-up and cached intermediate results not counted).

# %% tags=["parameters"]
cafe_dataset = "synthetic:cafe_like"  # load_dataset name; "cafe" for the real data
cafe_root = ""  # folder of the real data (default: $CAFE_ROOT)
cafe_options = {}  # adapter options for the real CAFE
nimh_dataset = "synthetic:nimh_like"  # "nimh_chefs" for the real data
nimh_root = ""  # default: $NIMH_CHEFS_ROOT
nimh_options = {}  # adapter options, e.g. {"gaze": "direct"}
model = "standin"  # load_model name; the paper profile: "hsemotion:enet_b0_7"
model_options = {}  # load_model options (standin: size/epochs/n; hsemotion: path, trust_unverified)
image_size = 64  # synthetic only: side of the generated faces (crops use the model's input size)
overall_margin = 0.1  # "overall, male and female differ little": equivalence margin of the overall accuracy gap
alpha = 0.05  # significance level of the verdicts
progress = False  # tqdm progress bars (interactive use)
seed = 0  # the synthetic data sets' draw (one draw, as the paper's data sets are one set of photographs)
seeds = [0]  # training seeds: the claims are computed once per seed (the stand-in trained with each); figures from the first
device = "cpu"  # cpu / cuda / auto

# %% tags=["remove-input"]
import pandas as pd

from emo_lib import noh2023 as nh
from emo_lib import paper
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("noh2023_gender_accuracy", globals())
for key, value in nh.paper_quotes().items():
    run.glue(key, value)
run.glue("overall_margin", overall_margin)
run.glue("interval_level", f"{1 - 2 * alpha:.0%}")
nets, faces = nh.setup_seeds(run, model=model, model_options=model_options,
                             image_size=image_size, seed=seed, seeds=seeds, kind="accuracy",
                             progress=progress,
                             datasets={nh.CAFE: (cafe_dataset, cafe_root, cafe_options),
                                       nh.NIMH: (nimh_dataset, nimh_root, nimh_options)})

# %% tags=["hide-input"]
preds_by_seed = nh.predictions_by_seed(nets, faces)
preds = preds_by_seed[seeds[0]]
acc = nh.accuracy_by(preds, by=("dataset", "gender"))
classes = nh.class_order(preds["label"])
for ds in faces:
    ov = acc[(acc["dataset"] == ds) & (acc["class"] == "overall")].set_index("gender")
    for g in nh.GENDERS:
        if g in ov.index:
            run.glue(f"{nh.PAPER_KEYS[ds]}_{g}_overall", float(ov.loc[g, "accuracy"]))

# %% [markdown]
# Overall accuracy, CAFE: boys {glue:text}`cafe_male_overall:.3f`, girls
# {glue:text}`cafe_female_overall:.3f`; NIMH-ChEFS: boys {glue:text}`nimh_chefs_male_overall:.3f`,
# girls {glue:text}`nimh_chefs_female_overall:.3f`.
#
# ## Correct answers and accuracy by gender
#
# As Fig. 3, one panel per data set: bars count the correct answers, markers give the accuracy
# with its 95 % Wilson interval.

# %% tags=["hide-input"]
for ds in faces:
    sub = acc[acc["dataset"] == ds].drop(columns="dataset")
    have = [c for c in classes if (sub.loc[sub["class"] == c, "n"] > 0).any()]
    fig = nh.rates_figure(sub, "gender", classes=have,
                       groups=[g for g in nh.GENDERS if g in set(sub["gender"])],
                       title=f"{ds}: correct answers (bars), accuracy with 95 % CI")
    run.figure(fig, f"accuracy_by_gender_{nh.PAPER_KEYS[ds]}")

# %% [markdown]
# ## Table 3: CAFE, correct answers (accuracy) by gender
#
# First the paper's layout for this run (with 95 % intervals), then each cell against the
# paper's.

# %% tags=["hide-input"]
run.table(nh.gender_layout(acc, nh.CAFE, ci=True), "table3_cafe_layout")
run.table(nh.gender_comparison(acc, nh.CAFE), "table3_vs_paper")
for note in paper.paper_notes("noh2023", "disgust"):
    show_markdown(f"```{{admonition}} The paper's own numbers disagree\n:class: note\n"
                  f"{note}\n```")

# %% [markdown]
# ## Table 4: NIMH-ChEFS, correct answers (accuracy) by gender

# %% tags=["hide-input"]
run.table(nh.gender_layout(acc, nh.NIMH, ci=True), "table4_nimh_layout")
run.table(nh.gender_comparison(acc, nh.NIMH), "table4_vs_paper");

# %% [markdown]
# ## Male vs female, class by class
#
# Male minus female accuracy per data set and class, Fisher's exact test (two-sided, per class,
# uncorrected), and the paper's gap beside. The paper highlights CAFE fear and NIMH-ChEFS
# neutral.

# %% tags=["hide-input"]
gaps = nh.gap_tests(acc, "gender", "male", "female", nh.paper_accuracy_table("gender"),
                    control_features=["dataset"])
run.table(gaps.rename(columns=lambda c: c.replace("_a", " (male)").replace("_b", " (female)")),
          "gender_gap_tests", columns=["dataset", "class", "accuracy (male)",
                                       "accuracy (female)", "difference", "p_value",
                                       "paper difference"])
exceptions = nh.paper_gender_exceptions()
run.glue("paper_exceptions", "; ".join(f"{ds} {', '.join(c)}" for ds, c in exceptions.items()))

# %% [markdown]
# Gaps above the paper's {glue:text}`paper_gender_threshold` in its own tables:
# {glue:text}`paper_exceptions`.
#
# ## The paper's claims
#
# Each claim is checked on this run's numbers (with every seed) and, with the same rule, on the
# paper's own Tables 3-4 (their counts as if they were this run's):
#
# - **At most {glue:text}`paper_gender_threshold` apart in every other class**: per class, the
#   {glue:text}`interval_level` Newcombe interval of the male minus female accuracy (two
#   one-sided tests) must lie within +/-{glue:text}`paper_gender_threshold`, the paper's own
#   threshold, in every class (a class this run cannot test leaves the claim partly supported
#   at best); a gap shown beyond it contradicts.
# - **The exception**: the gap must lie beyond {glue:text}`paper_gender_threshold` on the
#   paper's side, with a one-sided test against the threshold.
# - **Overall, little difference**: the overall gap within +/-{glue:text}`overall_margin`
#   (half the per-class threshold: "almost no difference" over all classes pooled is a stronger
#   statement than "not large" in one class).

# %% tags=["hide-input"]
run.claims(nh.gender_claims_by_seed(preds_by_seed, alpha=alpha, overall_margin=overall_margin),
           nh.claim_rules("gender", run.params))

# %% [markdown]
# ## The paper's explanation: VGGFace2's gender balance
#
# The paper explains the small gender gaps by the pretraining set's balance between men and
# women, and the large age gap by its lack of children. The shares it cites, with its own
# inconsistency:

# %% tags=["hide-input"]
show_markdown(nh.vggface2_note())
run.table(pd.Series(paper.paper_value("noh2023.vggface2_distribution"), name="share")
          .to_frame(), "vggface2_distribution", precision=4);

# %% [markdown]
# ## Summary
#
# Overall, boys against girls: CAFE {glue:text}`cafe_male_overall:.3f` vs
# {glue:text}`cafe_female_overall:.3f`, NIMH-ChEFS {glue:text}`nimh_chefs_male_overall:.3f` vs
# {glue:text}`nimh_chefs_female_overall:.3f`. Small gaps in the other classes: CAFE
# *{glue:text}`claim_cafe_small_gaps`*, NIMH-ChEFS *{glue:text}`claim_nimh_chefs_small_gaps`*;
# overall gaps small: CAFE *{glue:text}`claim_cafe_overall_gender`*, NIMH-ChEFS
# *{glue:text}`claim_nimh_chefs_overall_gender`*.
#
# Next: {doc}`noh2023_lime_age` asks where the model looks.

# %% tags=["remove-input"]
run.finish();
