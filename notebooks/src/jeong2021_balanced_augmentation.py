# ---
# jupyter:
#   emo_book:
#     plan: emo_lib.jeong2021.plan  # its training units, for emo-book plan
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Table 4: balanced augmentation
#
# Jeong & Kim's method {cite}`jeong2021` (their Algorithm 1) over-samples every class with
# fewer than $N_{min}$ = {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_n_min:,` training images up to $N_{min}$,
# transforming each copy with one transform drawn from the five they selected, and trains
# EfficientNet-B0 with focal loss. In their Table 4 macro F1 rises from
# {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_baseline_f1:.3f` (no augmentation) to
# {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_proposed_f1:.3f`, about {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_proposed_gain:+.0%`, with
# accuracy {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_accuracy_change_points:+.1f` points. Beyond the paper, this page adds the baselines a reviewer of imbalance
# work expects today: inverse-frequency weighted cross entropy, class-balanced sampling, the
# class-balanced focal loss of {cite}`cui2019classbalanced` (weights from the effective number
# of samples), and logit adjustment {cite}`menon2021logitadjustment`, both as a loss and post
# hoc on the cross-entropy baseline's stored test logits (no training); and per-class F1 and
# confusion matrices.
#
# *Time to run:* {glue:text}`page_seconds:.0f` s in this build (profile {glue:text}`page_profile:s`).

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.05  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 64  # side of the network input (the paper: 224)
methods = ["baseline", "over_sampling", "over_sampling_all_transforms", "proposed", "weighted_cross_entropy", "class_balanced_sampling", "class_balanced_focal", "logit_adjusted_loss", "baseline_cross_entropy", "logit_adjusted_posthoc", "logit_adjusted_posthoc_focal"]  # Table 4 rows (from weighted_cross_entropy on: beyond the paper)
selected_transforms = ["random_crop", "rotation", "cutout", "random_width", "random_zoom"]  # the method's set T (the paper's five)
n_min = 1500  # Algorithm 1's N_min for the full data set (scaled with a synthetic `scale`)
reference_model = "mobilenet_v3_small"  # the model in EfficientNet-B0's role (the paper: efficientnet_b0)
weights = "synthetic_faces"  # initial weights: synthetic_faces, imagenet (the paper) or random
pretraining = {}  # synthetic_faces only: pretraining budget (n, size, epochs, seed)
finetune_blocks = 1  # type: Optional[int] train the last N feature blocks and the head (None: all, the paper)
tau = 1.0  # logit adjustment's temperature (Menon et al.: 1)
folds = 3  # stratified cross-validation folds (the paper: 5)
epochs = 2  # maximum training epochs per fold (the paper: 300)
patience = None  # early stopping on validation loss (the paper: 10; None: off)
sweep_epochs = 2  # the baselines' epochs: the paper's baseline repeats Table 3's cell (30)
batch_size = 64  # the paper: 128
lr = 1e-3  # Adam learning rate (the paper: 1e-4)
alpha = 0.05  # significance level of the claims' tests
progress = False  # tqdm progress bars (interactive use)
seed = 0
device = "cpu"  # cpu / cuda / auto

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
import pandas as pd

from emo_lib import balance, paper
from emo_lib import jeong2021 as jg
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("jeong2021_balanced_augmentation", globals())
se, images, labels = jg.load_se30k8(se30k8_dataset, se30k8_root, se30k8_options, scale=scale,
                                    image_size=image_size, seed=seed)
run.banner(se)
n_min_used = jg.effective_n_min(n_min, scale, se.synthetic)
run.glue("n_min_used", n_min_used);

# %% [markdown]
# This run used $N_{min}$ = {glue:text}`n_min_used:d` (the paper's 1500, times `scale` for a
# synthetic data set drawn at that fraction of the paper's size; the real data uses it as
# given).
#
# ## Settings against the paper's

# %% tags=["hide-input"]
p = paper.paper_value("jeong2021.balanced_training")
run.table(paper.compare(
    {"image size": 224, "N_min": p["n_min"], "folds": p["folds"], "max epochs": p["max_epochs"],
     "early stopping patience": p["early_stopping_patience"], "batch size": p["batch_size"],
     "learning rate": p["learning_rate"]},
    {"image size": image_size, "N_min": n_min_used, "folds": folds, "max epochs": epochs,
     "early stopping patience": patience, "batch size": batch_size, "learning rate": lr}),
    "settings", precision=4)
show_markdown(f"**Initial weights.** {jg.describe_weights([reference_model], weights, pretraining)}"
              f". Fine-tuned: the last {finetune_blocks} feature block(s) and the head "
              f"(`finetune_blocks`; None trains every layer, as the paper does)."
              if finetune_blocks is not None else
              f"**Initial weights.** {jg.describe_weights([reference_model], weights, pretraining)}"
              ". Every layer is fine-tuned.")
show_markdown(f"The paper's baseline row equals its Table 3 cell (no augmentation, "
              f"EfficientNet-B0, focal loss), so here the no-augmentation baselines (focal and "
              f"cross entropy) are trained with the sweep's settings (`sweep_epochs` = "
              f"{sweep_epochs}, no early stopping) and shared with that page through the "
              "results cache. When those differ from this table's settings a row "
              f"`{jg.BASELINE_TABLE4}` adds the baseline trained like the other rows.")

# %% [markdown]
# The paper's own numbers deserve two remarks where this table is read:

# %% tags=["hide-input"]
show_markdown("\n".join(f"- {n}" for key in ("+30 %", "Focal loss without augmentation",
                                              "without loss")
                        for n in paper.paper_notes("jeong2021", key)))

# %% [markdown]
# ## What Algorithm 1 does to the class counts
#
# Drawn on the whole data set for illustration (each fold balances its own training part):
# the originals, and the transformed copies that bring each class up to $N_{min}$.

# %% tags=["hide-input"]
items = balance.balanced_items(labels, n_min_used, selected_transforms, seed)
by_frequency = jg.classes_by_frequency(labels, se.classes)
counts = balance.item_counts(items, labels).rename(index=dict(enumerate(se.classes)))
counts = counts.reindex(by_frequency)
fig, ax = plt.subplots(figsize=(7, 3.4))
counts[["originals", "copies"]].plot.bar(stacked=True, ax=ax, color=["#4c72b0", "#dd8452"])
ax.axhline(n_min_used, ls="--", color="grey", lw=0.8, label="$N_{min}$")
ax.set(xlabel="class", ylabel="training items", title="proposed: originals + transformed copies")
ax.legend()
run.figure(fig, "balanced_counts")
run.table(counts.rename_axis("class").reset_index(), "balanced_counts");

# %% tags=["hide-input"]
trained = jg.run_page("jeong2021_balanced_augmentation", run.params, images, labels,
                      se.classes, device=str(run.device))
balanced = jg.with_collapse(trained, se.classes)
recipes = jg.method_recipes(balanced["method"].unique(), n_min=n_min_used,
                            selected_transforms=selected_transforms)
run.table(jg.fold_scores(balanced, "jeong2021_balanced_augmentation",
                         cell_columns=["method", "model", "loss"], recipes=recipes),
          "fold_scores", display=False)
run.table(balanced.drop(columns="confusion"), "balanced_folds", display=False)
run.glue("balanced_cached_share", float(balanced["from_cache"].mean()))
run.glue("balanced_collapsed", int(balanced["collapsed"].sum()))
run.glue("balanced_folds_total", int(len(balanced)))
show_markdown(jg.collapse_note(balanced, ["method"]))

# %% [markdown]
# A share of {glue:text}`balanced_cached_share:.2f` of the folds came from the results cache
# (the baselines are the sweep's cells when the settings agree; post-hoc rows are computed
# from stored logits). {glue:text}`balanced_collapsed:d` of
# {glue:text}`balanced_folds_total:d` folds collapsed.
#
# ## Every fold, per method
#
# Each dot is one fold's test macro F1 (collapsed folds greyed); the black tick and bar are the
# mean over the learning folds and its 95 % interval (corrected resampled t); the grey tick is
# the majority-class F1.

# %% tags=["hide-input"]
run.figure(jg.fold_figure(balanced, ["method"], "macro_f1", alpha=alpha), "table4_methods");

# %% [markdown]
# ## Table 4 against the paper
#
# One row per method: learning folds, macro F1 (mean, sd, 95 % interval), accuracy, and the
# paper's macro F1 and accuracy (EfficientNet-B0; rows beyond the paper have none).

# %% tags=["hide-input"]
run.table(jg.paper_table(balanced, "table4", alpha=alpha), "table4_efficientnet_b0_focal");

# %% tags=["hide-input"]
if {"baseline", "proposed"} <= set(balanced["method"]):
    gain = jg.compare_cells(jg.select(balanced, method="proposed"),
                            jg.select(balanced, method="baseline"), label="proposed vs baseline",
                            alpha=alpha)
    accuracy = jg.compare_cells(jg.select(balanced, method="proposed"),
                                jg.select(balanced, method="baseline"), "accuracy", alpha=alpha)
    t4 = paper.paper_value("jeong2021.table4_efficientnet_b0_focal")
    run.table(paper.compare(
        {"macro F1 gain (relative)": jg.paper_gain("proposed"),
         "accuracy change": t4["proposed"][0] - t4["baseline"][0]},
        {"macro F1 gain (relative)": gain.relative,
         "accuracy change": accuracy.difference}), "proposed_vs_baseline")
    summary = jg.cell_summary(balanced, ["method"], alpha=alpha).set_index("method")
    for m in ("baseline", "proposed"):
        for col in ("mean", "ci_low", "ci_high"):
            run.glue(f"{m}_f1_{col}", float(summary.loc[m, col]))
    run.glue("f1_gain", gain.relative)
    run.glue("f1_difference", gain.difference)
    run.glue("f1_difference_p", jg.format_p(gain.test.p_value))
    run.glue("paper_f1_gain", jg.paper_gain("proposed"))
    run.glue("gain_folds", gain.folds)
else:
    show_markdown("This run's `methods` lack the baseline or the proposed method: no gain.")

# %% [markdown]
# Over the learning folds the baseline scored macro F1 {glue:text}`baseline_f1_mean:.3f`
# (95 % interval {glue:text}`baseline_f1_ci_low:.3f` to {glue:text}`baseline_f1_ci_high:.3f`)
# and the proposed method {glue:text}`proposed_f1_mean:.3f`
# ({glue:text}`proposed_f1_ci_low:.3f` to {glue:text}`proposed_f1_ci_high:.3f`): a relative
# change of {glue:text}`f1_gain:+.0%` (difference {glue:text}`f1_difference:+.3f`, corrected
# paired t p = {glue:text}`f1_difference_p` over {glue:text}`gain_folds:d` folds); the paper
# reports {glue:text}`paper_f1_gain:+.0%`.
#
# ## Logit adjustment, post hoc
#
# Menon et al.'s post-hoc correction needs no training: each fold's stored test logits of the
# cross-entropy baseline (`baseline_cross_entropy`, the model they assume) are shifted by
# $-\tau \log \pi$, $\pi$ the class frequencies that fold's model trained on, and the argmax is
# scored again (`logit_adjusted_posthoc`). The same shift applied to the focal baseline's
# logits (`logit_adjusted_posthoc_focal`) is shown beside it; focal loss does not estimate the
# class probabilities the correction assumes, so that row is a curiosity, not Menon et al.'s
# method. The rows are in the table and the figure above.
#
# ## Per class (beyond the paper)
#
# The paper reports only macro F1. Per-class F1 (mean over the learning folds) shows which
# classes a method helps; the rare classes are on the right.

# %% tags=["hide-input"]
per_class = jg.fold_means(balanced, ["method"])[[f"f1_{c}" for c in by_frequency]]
per_class.columns = by_frequency
run.table(per_class.T.rename_axis("class").reset_index(), "per_class_f1", display=False)
if per_class.notna().to_numpy().any():
    fig, ax = plt.subplots(figsize=(9, 4.2))
    per_class.T.plot.bar(ax=ax, width=0.85)
    ax.set(xlabel="class (most to least frequent)", ylabel="F1 (mean over learning folds)")
    ax.legend(fontsize=7, ncol=3)
    run.figure(fig, "per_class_f1")
else:
    show_markdown("Every fold collapsed: no per-class F1 over learning folds to show.")

# %% tags=["hide-input"]
learning = balanced[~balanced["collapsed"]]
matrices = {m: jg.confusion_sum(learning, method=m) for m in ("baseline", "proposed")
            if len(jg.select(learning, method=m))}
if matrices:
    run.figure(jg.confusion_figure(matrices, se.classes, order=by_frequency),
               "confusion_baseline_proposed")
    for m, cm in matrices.items():
        run.table(pd.DataFrame(cm, index=se.classes, columns=se.classes), f"confusion_{m}",
                  display=False)
else:
    show_markdown("Neither the baseline nor the proposed method has a learning fold: no "
                  "confusion matrix to show.")

# %% [markdown]
# Rows are the true classes, columns the predicted ones, each row normalised to 1 (summed over
# the learning test folds).
#
# ## The paper's claim

# %% tags=["hide-input"]
page_claims = ["proposed_gain_b0"]
mine = jg.claim_verdicts(balanced=balanced, reference_model=reference_model, alpha=alpha,
                         only=page_claims)
verdicts = jg.with_paper_verdicts(mine, jg.paper_verdicts(only=page_claims))
run.claims(verdicts, jg.rules_markdown(*jg.RULE_KINDS, alpha=alpha))
run.table(jg.claim_comparisons(balanced=balanced, reference_model=reference_model,
                               alpha=alpha, only=page_claims), "claim_comparisons",
          display=False);

# %% [markdown]
# ## Summary
#
# Macro F1 {glue:text}`baseline_f1_mean:.3f` without augmentation, {glue:text}`proposed_f1_mean:.3f`
# with the proposed method ({glue:text}`f1_gain:+.0%`; the paper {glue:text}`paper_f1_gain:+.0%`);
# {glue:text}`balanced_collapsed:d` of {glue:text}`balanced_folds_total:d` folds collapsed. The
# claim that the method raises the reference model's F1: *{glue:text}`claim_proposed_gain_b0`*.
#
# Next: {doc}`jeong2021_model_scaling` swaps in larger models; the {doc}`claims_ledger` sets
# every verdict side by side.

# %% tags=["remove-input"]
run.finish();
