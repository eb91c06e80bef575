# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Fig. 3: accuracy on children vs adolescents
#
# Noh & Lim {cite}`noh2023` run an emotion CNN pretrained mostly on adults (HSEmotion's
# MobileNet {cite}`savchenko2021hsemotion`) on CAFE {cite}`lobue2015cafe` (children, 2-8 years)
# and NIMH-ChEFS {cite}`egger2011nimhchefs` (adolescents, 10-17). Their Fig. 3 shows the
# correct answers and the accuracy per class. They report that CAFE's overall accuracy is lower
# and that, except for happy, every class both sets share differs widely. This page computes the
# same per-class accuracies, adds 95 % intervals and a test of each gap, and checks each claim,
# once per seed in `seeds` (each seed trains the stand-in anew; the figures are the first seed's).
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
alpha = 0.05  # significance level of the verdicts
progress = False  # tqdm progress bars (interactive use)
seed = 0  # the synthetic data sets' draw (one draw, as the paper's data sets are one set of photographs)
seeds = [0]  # training seeds: the claims are computed once per seed (the stand-in trained with each); figures from the first
device = "cpu"  # cpu / cuda / auto

# %% tags=["remove-input"]
from emo_lib import noh2023 as nh
from emo_lib import paper
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("noh2023_age_accuracy", globals())
for key, value in nh.paper_quotes().items():
    run.glue(key, value)
nets, faces = nh.setup_seeds(run, model=model, model_options=model_options,
                             image_size=image_size, seed=seed, seeds=seeds, kind="accuracy",
                             progress=progress,
                             datasets={nh.CAFE: (cafe_dataset, cafe_root, cafe_options),
                                       nh.NIMH: (nimh_dataset, nimh_root, nimh_options)})

# %% tags=["hide-input"]
preds_by_seed = nh.predictions_by_seed(nets, faces)
net, preds = nets[seeds[0]], preds_by_seed[seeds[0]]
acc = nh.accuracy_by(preds, by=("dataset",))
overall = acc[acc["class"] == "overall"].set_index("dataset")["accuracy"]
nimh_rows = preds[preds["dataset"] == nh.NIMH]
run.glue("cafe_overall", float(overall[nh.CAFE]))
run.glue("nimh_overall", float(overall[nh.NIMH]))
run.glue("nimh_outside_share", float((~nimh_rows["in_dataset_classes"]).mean()))
run.glue("nimh_outside_n", int((~nimh_rows["in_dataset_classes"]).sum()))
run.glue("model_classes", ", ".join(net.classes))

# %% [markdown]
# Overall accuracy: CAFE {glue:text}`cafe_overall:.3f`, NIMH-ChEFS
# {glue:text}`nimh_overall:.3f`.
#
# As in the paper, the model answers over all its classes ({glue:text}`model_classes`), also on
# NIMH-ChEFS, which has five: {glue:text}`nimh_outside_n` NIMH-ChEFS answers (a share of
# {glue:text}`nimh_outside_share:.3f`) named a class the set does not have and count as wrong.
#
# ## Fig. 3: correct answers and accuracy per class
#
# Bars: correct answers; markers: accuracy with its 95 % Wilson interval. NIMH-ChEFS has no
# disgust or surprise, so those clusters have one bar.

# %% tags=["hide-input"]
fig = nh.rates_figure(acc, "dataset", classes=nh.class_order(preds["label"]),
                   title="Correct answers (bars) and accuracy with 95 % CI (markers)")
run.figure(fig, "fig3_accuracy")
run.table(acc, "accuracy_by_class");

# %% [markdown]
# ## Against the paper
#
# The paper's Fig. 3 values beside this run's, with this run's interval and whether the
# paper's value falls inside it.

# %% tags=["hide-input"]
run.table(nh.fig3_comparison(acc), "fig3_vs_paper")
for note in paper.paper_notes("noh2023", "disgust"):
    show_markdown(f"```{{admonition}} The paper's own numbers disagree\n:class: note\n"
                  f"{note}\n```")

# %% [markdown]
# ## The gaps, class by class
#
# CAFE minus NIMH-ChEFS per shared class, with Fisher's exact test (two-sided, not corrected
# for the five comparisons) and the paper's gap beside. The pooled row uses only the shared
# classes, so it differs from the overall accuracies above.

# %% tags=["hide-input"]
gaps = nh.gap_tests(acc, "dataset", nh.CAFE, nh.NIMH, nh.paper_accuracy_table("age"))
run.table(gaps.rename(columns=lambda c: c.replace("_a", " (CAFE)").replace("_b", " (NIMH)")),
          "gap_tests", columns=["class", "accuracy (CAFE)", "accuracy (NIMH)", "difference",
                                "p_value", "paper difference"]);

# %% [markdown]
# ## The paper's claims
#
# Each claim is checked on this run's numbers (with every seed) and, with the same rule, on
# the paper's own numbers (Fig. 3's accuracies with Tables 1-2's counts: CAFE
# {glue:text}`paper_cafe_overall:.3f`, NIMH-ChEFS {glue:text}`paper_nimh_overall:.3f` overall).
# The rules, printed under the claims: a gap in the paper's direction counts only when Fisher's
# exact test finds it (p < `alpha`); the other direction, found, contradicts. "Differ widely" is
# tested against the paper's own yardstick of a large accuracy gap,
# {glue:text}`paper_gender_threshold` (Section 3.3), class by class, and a class shown within it
# contradicts "every class"; "happy is the exception" says its gap is not large: an equivalence
# test with the same yardstick.

# %% tags=["hide-input"]
run.claims(nh.age_claims_by_seed(preds_by_seed, alpha=alpha), nh.claim_rules("age", run.params))

# %% [markdown]
# ## Summary
#
# On this build's data the model reads CAFE at {glue:text}`cafe_overall:.3f` and NIMH-ChEFS at
# {glue:text}`nimh_overall:.3f` (the paper: {glue:text}`paper_cafe_overall:.3f` and
# {glue:text}`paper_nimh_overall:.3f`). CAFE lower overall: *{glue:text}`claim_cafe_overall_lower`*;
# the gaps in the shared classes: *{glue:text}`claim_shared_gaps_large`*; happy the exception:
# *{glue:text}`claim_happy_exception`*.
#
# Next: {doc}`noh2023_gender_accuracy` splits the same predictions by gender; the
# {doc}`claims_ledger` sets every verdict of both papers side by side.

# %% tags=["remove-input"]
run.finish();
