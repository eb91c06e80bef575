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
# # Tables 2-3: augmentation x model x loss
#
# Jeong & Kim {cite}`jeong2021` add, for each transform of their catalogue in turn, one
# transformed copy of every training image, and train VGG-16, ResNet-50 and EfficientNet-B0
# with cross entropy (Table 2) and focal loss (Table 3), 5-fold. They report that
# EfficientNet-B0 wins everywhere, that focal loss beats cross entropy in F1 for all transforms
# but random flip and random height, and pick the five transforms with the best
# EfficientNet-B0 F1 in Table 3 for their method. This page reruns the grid this run's
# parameters name, judges each fold (a fold that predicts one class is left out), and tests
# the claims with the folds' spread.
#
# *Time to run:* {glue:text}`page_seconds:.0f` s in this build (profile {glue:text}`page_profile:s`).

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.05  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 64  # side of the network input (the paper: 224)
transforms = ["random_crop", "rotation"]  # rows besides "no augmentation" (the paper: all ten)
models = ["mobilenet_v3_small"]  # columns (the paper: vgg16, resnet50, efficientnet_b0)
reference_model = "mobilenet_v3_small"  # the model in EfficientNet-B0's role (the paper: efficientnet_b0)
losses = ["cross_entropy", "focal"]  # cross_entropy -> Table 2, focal -> Table 3
weights = "synthetic_faces"  # initial weights: synthetic_faces, imagenet (the paper) or random
pretraining = {}  # synthetic_faces only: pretraining budget (n, size, epochs, seed)
finetune_blocks = 1  # type: Optional[int] train the last N feature blocks and the head (None: all, the paper)
folds = 3  # stratified cross-validation folds (the paper: 5)
epochs = 2  # training epochs per fold (the paper: 30)
batch_size = 64  # the paper: 128
lr = 1e-3  # Adam learning rate (the paper: 1e-4)
top_k = 5  # how many transforms the method keeps (the paper: 5)
alpha = 0.05  # significance level of the claims' tests
progress = False  # tqdm progress bars (interactive use)
seed = 0
device = "cpu"  # cpu / cuda / auto

# %% tags=["remove-input"]
import pandas as pd

from emo_lib import paper
from emo_lib import jeong2021 as jg
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("jeong2021_augmentation_sweep", globals())
se, images, labels = jg.load_se30k8(se30k8_dataset, se30k8_root, se30k8_options, scale=scale,
                                    image_size=image_size, seed=seed)
run.banner(se)

# %% [markdown]
# ## Settings against the paper's

# %% tags=["hide-input"]
p = paper.paper_value("jeong2021.sweep_training")
run.table(paper.compare(
    {"image size": 224, "folds": p["folds"], "epochs": p["epochs"],
     "batch size": p["batch_size"], "learning rate": p["learning_rate"],
     "transforms (rows)": len(paper.paper_value("jeong2021.table3_focal")) - 1,
     "models": len(jg.PAPER_MODELS), "losses": len(jg.SWEEP_TABLES)},
    {"image size": image_size, "folds": folds, "epochs": epochs, "batch size": batch_size,
     "learning rate": lr, "transforms (rows)": len(transforms), "models": len(models),
     "losses": len(losses)}), "settings", precision=4)
show_markdown(f"**Initial weights.** {jg.describe_weights(models, weights, pretraining)}. "
              + ("Only the last feature block and the head are fine-tuned "
                 if finetune_blocks == 1 else
                 f"The last {finetune_blocks} feature blocks and the head are fine-tuned "
                 if finetune_blocks is not None else "Every layer is fine-tuned ")
              + f"(`finetune_blocks` = {finetune_blocks}). "
              + (f"`{reference_model}` plays EfficientNet-B0's role in the claims."
                 if reference_model != jg.PAPER_REFERENCE_MODEL else ""))

# %% tags=["hide-input"]
trained = jg.run_page("jeong2021_augmentation_sweep", run.params, images, labels, se.classes,
                      device=str(run.device))
sweep = jg.with_collapse(trained, se.classes)
run.table(jg.fold_scores(sweep, "jeong2021_augmentation_sweep",
                         cell_columns=["transform", "model", "loss"]), "fold_scores",
          display=False)
run.table(sweep.drop(columns="confusion"), "sweep_folds", display=False)
run.glue("sweep_cells", int(sweep.groupby(["transform", "model", "loss"]).ngroups))
run.glue("sweep_cached_share", float(sweep["from_cache"].mean()))
run.glue("sweep_train_minutes", float(sweep.loc[~sweep["from_cache"], "seconds"].sum() / 60))
run.glue("sweep_collapsed", int(sweep["collapsed"].sum()))
run.glue("sweep_folds_total", int(len(sweep)))
show_markdown(jg.collapse_note(sweep, ["transform", "model", "loss"]))

# %% [markdown]
# {glue:text}`sweep_cells:d` cells (transform x model x loss) were cross-validated; a share of
# {glue:text}`sweep_cached_share:.2f` of their folds came from the results cache (cells shared
# with other pages or earlier builds), the rest took {glue:text}`sweep_train_minutes:.1f`
# minutes to train. {glue:text}`sweep_collapsed:d` of {glue:text}`sweep_folds_total:d` folds
# collapsed.
#
# ## Every fold
#
# Each dot is one fold's test score; the black tick and bar are the mean over the learning
# folds and its 95 % interval (Nadeau-Bengio corrected resampled t, which widens the naive
# interval because the folds share training images); the grey tick is the macro F1 of
# always predicting the most frequent class.

# %% tags=["hide-input"]
run.figure(jg.fold_figure(sweep, ["transform", "model"], "macro_f1", panel="loss",
                          alpha=alpha), "sweep_macro_f1")
run.figure(jg.fold_figure(sweep, ["transform", "model"], "accuracy", panel="loss",
                          alpha=alpha), "sweep_accuracy");

# %% [markdown]
# ## Tables 2 and 3 against the paper
#
# One row per (transform, model) of this run: its learning folds, macro F1 (mean and 95 %
# interval; the CSV adds the sd), accuracy, and the paper's macro F1 and accuracy for that
# model (on the row of the model playing EfficientNet-B0's role, EfficientNet-B0's).

# %% tags=["hide-input"]
for loss, table, title in (("cross_entropy", "table2", "Table 2: cross entropy"),
                           ("focal", "table3", "Table 3: focal loss")):
    if loss in losses:
        show_markdown(f"**{title}**")
        # the page shows the interval, not the sd, to fit its column; the CSV has both
        table_frame = jg.paper_table(sweep, table, reference_model=reference_model, alpha=alpha)
        run.table(table_frame, jg.SWEEP_TABLES[loss],
                  columns=[c for c in table_frame.columns if c != "sd"])

# %% [markdown]
# ## The transforms the method keeps
#
# The paper keeps the five transforms with the highest EfficientNet-B0 F1 in Table 3. Its own
# table ties at the cut:

# %% tags=["hide-input"]
paper_top, paper_ties = jg.select_top_transforms(jg.paper_sweep("focal"), k=top_k)
show_markdown("\n".join(f"- {n}" for n in paper.paper_notes("jeong2021", "tie")))
paper_f1 = jg.paper_sweep("focal").query("model == 'efficientnet_b0'").set_index("transform")
show_markdown(
    f"From the paper's Table 3, the top {top_k} (ties broken by the catalogue order) are "
    f"{', '.join(paper_top)}; tied at the cut ({paper_f1.loc[paper_top[-1], 'macro_f1']:.3f}): "
    f"{', '.join(paper_ties) or 'none'}. The paper chose "
    f"{', '.join(paper.paper_value('jeong2021.selected_transforms'))}.")

# %% tags=["hide-input"]
if reference_model in models and "focal" in losses and transforms:
    run_top, run_ties = jg.select_top_transforms(sweep, model=reference_model, k=top_k)
    f1 = jg.fold_means(jg.select(sweep, model=reference_model, loss="focal"),
                       ["transform"])["macro_f1"].drop(jg.NO_AUGMENTATION)
    ranking = pd.DataFrame({"this run F1": f1, "paper F1": paper_f1["macro_f1"].reindex(f1.index),
                            "kept (this run)": f1.index.isin(run_top),
                            "kept (paper)": f1.index.isin(paper.paper_value(
                                "jeong2021.selected_transforms"))}).sort_values(
        "this run F1", ascending=False)
    run.table(ranking.rename_axis("transform").reset_index(), "ranking_reference_focal")
    note = (f" Only {len(f1)} transforms were tried, so all are kept." if len(f1) <= top_k
            else "")
    show_markdown(f"This run's top {top_k} ({jg.model_label(reference_model)}, focal loss): "
                  f"{', '.join(run_top)}; tied at the cut: {', '.join(run_ties) or 'none'}."
                  f"{note} The balanced-augmentation page uses its own `selected_transforms` "
                  "parameter (default: the paper's five).")
    run.glue("run_top_transforms", ", ".join(run_top))
else:
    show_markdown("This run's grid lacks the reference model with focal loss (or any "
                  "transform), so it cannot rank the transforms.")

# %% [markdown]
# ## The paper's claims
#
# Each claim this page can test, judged on this run's folds and, beside, with the same rules on
# the paper's own numbers. The comparisons behind each verdict follow the table.

# %% tags=["hide-input"]
page_claims = ["b0_beats_others", "focal_beats_ce"]
mine = jg.claim_verdicts(sweep=sweep, reference_model=reference_model, alpha=alpha,
                         only=page_claims)
verdicts = jg.with_paper_verdicts(mine, jg.paper_verdicts(only=page_claims))
run.claims(verdicts, jg.rules_markdown(*jg.RULE_KINDS, alpha=alpha))

# %% tags=["hide-input"]
comparisons = jg.claim_comparisons(sweep=sweep, reference_model=reference_model, alpha=alpha,
                                   only=page_claims)
run.table(comparisons, "claim_comparisons", display=False)
if len(comparisons):
    run.table(comparisons[["comparison", "metric", "folds", "difference", "ci_low", "ci_high",
                           "p_holm", "verdict"]], "claim_comparisons_shown")

# %% [markdown]
# ## Summary
#
# {glue:text}`sweep_folds_total:d` folds trained, {glue:text}`sweep_collapsed:d` collapsed. The
# reference model beats the others: *{glue:text}`claim_b0_beats_others`*; focal loss beats cross
# entropy: *{glue:text}`claim_focal_beats_ce`*.
#
# Next: {doc}`jeong2021_balanced_augmentation`, the paper's method (Algorithm 1) against the
# baselines.

# %% tags=["remove-input"]
run.finish();
