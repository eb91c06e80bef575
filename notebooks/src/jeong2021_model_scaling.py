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
# # Fig. 5: model scaling
#
# Jeong & Kim {cite}`jeong2021` swap EfficientNet-B0 for the larger B1-B5 in their method
# (balanced augmentation with focal loss) and plot accuracy and F1 against each model's
# parameters and FLOPs, beside VGG-16 and ResNet-50 without augmentation. They report that both
# grow gradually from B0 to B5, reaching an F1 of {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_b5_f1:.3f` with B5,
# about {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_b5_gain:+.0%` over the EfficientNet-B0 baseline. This page trains the models its parameters name and counts every
# model's size.
#
# *Time to run:* {glue:text}`page_seconds:.0f` s in this build (profile {glue:text}`page_profile:s`).

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.05  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 64  # side of the network input (the paper: 224)
models = ["mobilenet_v3_small"]  # trained with the proposed method (the paper: efficientnet_b0 to b5)
reference_model = "mobilenet_v3_small"  # the model in EfficientNet-B0's role: the gains' baseline (the paper: efficientnet_b0)
reference_models = []  # trained as baselines, no augmentation (the paper: vgg16, resnet50)
size_models = ["efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "resnet50", "vgg16"]  # models whose parameters and FLOPs are counted
selected_transforms = ["random_crop", "rotation", "cutout", "random_width", "random_zoom"]  # the method's set T (the paper's five)
n_min = 1500  # Algorithm 1's N_min for the full data set (scaled with a synthetic `scale`)
weights = "synthetic_faces"  # initial weights: synthetic_faces, imagenet (the paper) or random
pretraining = {}  # synthetic_faces only: pretraining budget (n, size, epochs, seed)
finetune_blocks = 1  # type: Optional[int] train the last N feature blocks and the head (None: all, the paper)
folds = 3  # stratified cross-validation folds (the paper: 5)
epochs = 2  # maximum training epochs per fold (the paper: 300)
patience = None  # early stopping on validation loss (the paper: 10; None: off)
sweep_epochs = 2  # the baselines' epochs, as in Tables 2-3 (the paper: 30)
batch_size = 64  # the paper: 128
lr = 1e-3  # Adam learning rate (the paper: 1e-4)
alpha = 0.05  # significance level of the claims' tests
progress = False  # tqdm progress bars (interactive use)
seed = 0
device = "cpu"  # cpu / cuda / auto

# %% tags=["remove-input"]
from emo_lib import paper
from emo_lib import jeong2021 as jg
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("jeong2021_model_scaling", globals())
se, images, labels = jg.load_se30k8(se30k8_dataset, se30k8_root, se30k8_options, scale=scale,
                                    image_size=image_size, seed=seed)
run.banner(se)
n_min_used = jg.effective_n_min(n_min, scale, se.synthetic)
run.glue("n_min_used", n_min_used);

# %% [markdown]
# The proposed method here is the balanced-augmentation page's (same $N_{min}$ =
# {glue:text}`n_min_used:d`, transforms and settings), so its point for the reference model is
# that page's "proposed" row, taken from the results cache when the settings agree. The
# baselines are trained as in Tables 2-3 (focal loss, no augmentation).
#
# ## Which model plays which role

# %% tags=["hide-input"]
trained_models = list(dict.fromkeys([*models, reference_model, *reference_models]))
show_markdown(
    f"**Initial weights.** {jg.describe_weights(trained_models, weights, pretraining)}. "
    + (f"Fine-tuned: the last {finetune_blocks} feature block(s) of each model and its head."
       if finetune_blocks is not None else "Every layer is fine-tuned."))
if reference_model != jg.PAPER_REFERENCE_MODEL:
    show_markdown(
        f"{jg.model_label(reference_model)} plays EfficientNet-B0's role: the gains are "
        "measured against its no-augmentation baseline, as the paper's against B0's. "
        f"This run trains {', '.join(map(jg.model_label, models))} with the proposed method"
        + (f" and {', '.join(map(jg.model_label, reference_models))} as baselines"
           if reference_models else "")
        + ": EfficientNets, VGG-16 and ResNet-50 are the paper's profile (on a GPU); on two "
        "CPU cores their fine-tuning (and, offline, their synthetic-face pretraining) does "
        "not fit the smoke build, so only their sizes are counted below.")

# %% [markdown]
# ## Model sizes
#
# Parameters (millions) and multiply-adds (billions, what the papers call FLOPs) counted with
# `torch.utils.flop_counter`: with this run's 8-class head at this run's input size, and with
# ImageNet's 1000-class head at the resolution of torchvision's ImageNet weights, beside the
# reference sizes the original model papers give (torchvision's B2 weights use 288 px where the
# EfficientNet paper used 260 px, hence B2's larger FLOPs).

# %% tags=["hide-input"]
sizes = jg.model_sizes([*size_models, *trained_models], len(se.classes), image_size)
run.table(sizes.rename_axis("model").reset_index(), "model_sizes", display=False)
run.table(sizes[["params_m", "flops_b", "params_m_imagenet", "flops_b_imagenet",
                 "reference_params_m", "reference_flops_b"]].rename_axis("model")
          .reset_index().assign(model=lambda d: d["model"].map(jg.model_label)),
          "model_sizes_shown")
refs = sizes.dropna(subset=["reference_params_m"])
run.table(paper.compare(
    {**{f"{m} params (M)": r["reference_params_m"] for m, r in refs.iterrows()},
     **{f"{m} FLOPs (B)": r["reference_flops_b"] for m, r in refs.iterrows()}},
    {**{f"{m} params (M)": r["params_m_imagenet"] for m, r in refs.iterrows()},
     **{f"{m} FLOPs (B)": r["flops_b_imagenet"] for m, r in refs.iterrows()}},
    relative=True, labels=("reference", "counted")).rename_axis("size").reset_index(),
    "sizes_vs_reference");

# %% tags=["hide-input"]
trained = jg.run_page("jeong2021_model_scaling", run.params, images, labels, se.classes,
                      device=str(run.device))
scaling = jg.with_collapse(trained, se.classes)
run.table(jg.fold_scores(scaling, "jeong2021_model_scaling",
                         cell_columns=["model", "method", "loss"],
                         recipes=jg.method_recipes(["proposed", "baseline"], n_min=n_min_used,
                                                   selected_transforms=selected_transforms)),
          "fold_scores", display=False)
run.table(scaling.drop(columns="confusion"), "scaling_folds", display=False)
run.glue("scaling_cached_share", float(scaling["from_cache"].mean()))
run.glue("scaling_collapsed", int(scaling["collapsed"].sum()))
run.glue("scaling_folds_total", int(len(scaling)))
table = jg.paper_table(scaling, "fig5", sizes=sizes[["params_m", "flops_b"]],
                       reference_model=reference_model, alpha=alpha)
show_markdown(jg.collapse_note(scaling, ["model", "method"]))

# %% [markdown]
# A share of {glue:text}`scaling_cached_share:.2f` of the folds came from the results cache;
# {glue:text}`scaling_collapsed:d` of {glue:text}`scaling_folds_total:d` folds collapsed.
#
# ## Every fold

# %% tags=["hide-input"]
run.figure(jg.fold_figure(scaling, ["model", "method"], "macro_f1", alpha=alpha),
           "fig5_folds");

# %% [markdown]
# ## Accuracy and F1 against model size
#
# Filled markers: this run (mean over the learning folds, bars: sd); open markers: the paper's
# values for its own models where it prints them (Table 4's B0, Fig. 5's B5 end point, Table
# 3's baselines). The x axis uses this run's counts (8-class head, this run's input size).

# %% tags=["hide-input"]
run.figure(jg.scaling_figure(table, "params_m"), "fig5_params")
run.figure(jg.scaling_figure(table, "flops_b"), "fig5_flops");

# %% [markdown]
# ## Against the paper
#
# One row per (model, method): learning folds, macro F1 (mean and 95 % interval), accuracy,
# the paper's values (EfficientNet-B0's on the rows of the model in its role) and this run's
# parameter count. The CSV holds every column.

# %% tags=["hide-input"]
run.table(table.reset_index(), "fig5_scaling", display=False)
run.table(jg.scaling_display(table), "fig5_scaling_shown")
end = paper.paper_value("jeong2021.fig5_scaling")
last = str(sizes.loc[list(models), "params_m"].idxmax())
row = table.loc[(last, "proposed")]
endpoint = paper.compare(dict(zip(jg.METRICS, end["efficientnet_b5"])),
                         {m: row[m] for m in jg.METRICS},
                         labels=("paper: EfficientNet-B5", f"this run: {jg.model_label(last)}"))
run.table(endpoint.drop(columns="difference").rename_axis("metric").reset_index(), "endpoint")
trend = jg.scaling_trend(table)
run.glue("largest_model", jg.model_label(last))
run.glue("trend_rho", trend["rho"])
run.glue("trend_monotone", "yes" if trend["monotone"] else "no")
run.glue("trend_models", ", ".join(map(jg.model_label, trend["models"])))
show_markdown("\n".join(f"- {n}" for n in paper.paper_notes("jeong2021", "+40 %")))

# %% [markdown]
# The paper's end point is EfficientNet-B5; this run's largest model with the method is
# {glue:text}`largest_model`, a different network at another scale, so the two are set side
# by side without a difference. Across {glue:text}`trend_models` (proposed method), macro F1
# against parameters has Spearman's rho {glue:text}`trend_rho:.2f` (undefined with one model);
# it never falls from one model to the next larger: {glue:text}`trend_monotone`.
#
# ## The paper's claims

# %% tags=["hide-input"]
page_claims = ["proposed_gain_b0", "gain_b5"]
mine = jg.claim_verdicts(scaling=scaling, reference_model=reference_model, largest_model=last,
                         alpha=alpha, only=page_claims)
verdicts = jg.with_paper_verdicts(mine, jg.paper_verdicts(only=page_claims))
run.claims(verdicts, jg.rules_markdown(*jg.RULE_KINDS, alpha=alpha))
run.table(jg.claim_comparisons(scaling=scaling, reference_model=reference_model,
                               largest_model=last, alpha=alpha, only=page_claims),
          "claim_comparisons", display=False);

# %% [markdown]
# ## Summary
#
# Largest model with the method: {glue:text}`largest_model`; F1 against size, Spearman's rho
# {glue:text}`trend_rho:.2f`. The method's gain on the reference model:
# *{glue:text}`claim_proposed_gain_b0`*; the largest model's gain: *{glue:text}`claim_gain_b5`*.
#
# Next: every verdict of both papers on the {doc}`claims_ledger`; how this book is built on
# {doc}`../book/reproducibility`.

# %% tags=["remove-input"]
run.finish();
