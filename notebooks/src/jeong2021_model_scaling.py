# ---
# jupyter:
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
# grow gradually from B0 to B5, reaching 59.24 % accuracy and an F1 of 0.348 with B5, about
# +40 % over the baseline. This page trains the models its parameters name and counts every
# model's size.

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.02  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 32  # side of the network input (the paper: 224)
models = ["efficientnet_b0", "efficientnet_b1"]  # trained with the proposed method (the paper: B0-B5)
reference_models = ["resnet50"]  # trained as baselines, no augmentation (the paper: vgg16, resnet50)
size_models = ["efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4", "efficientnet_b5", "resnet50", "vgg16"]  # models whose parameters and FLOPs are counted
selected_transforms = ["random_crop", "rotation", "cutout", "random_width", "random_zoom"]  # the method's set T (the paper's five)
n_min = 1500  # Algorithm 1's N_min for the full data set (scaled with a synthetic `scale`)
folds = 2  # stratified cross-validation folds (the paper: 5)
epochs = 1  # maximum training epochs per fold (the paper: 300)
patience = None  # early stopping on validation loss (the paper: 10; None: off)
sweep_epochs = 1  # the baselines' epochs, as in Tables 2-3 (the paper: 30)
batch_size = 32  # the paper: 128
lr = 1e-3  # Adam learning rate (the paper fine-tunes ImageNet weights with 1e-4)
pretrained = False  # start from ImageNet weights (needs them in torchvision's cache)
progress = False  # tqdm progress bars (interactive use)
seed = 0
device = "cpu"  # cpu / cuda / auto

# %%
from emo_lib import paper
from emo_lib import jeong2021 as jg
from emo_lib.report import Run, show_markdown
from emo_lib.train import FitConfig

run = Run.from_parameters("jeong2021_model_scaling", globals())
se, images, labels = jg.load_se30k8(se30k8_dataset, se30k8_root, se30k8_options, scale=scale,
                                    image_size=image_size, seed=seed)
run.banner(se)
n_min_used = jg.effective_n_min(n_min, scale, se.synthetic)
config = FitConfig(epochs=epochs, lr=lr, batch_size=batch_size, patience=patience)
baseline_config = FitConfig(epochs=sweep_epochs, lr=lr, batch_size=batch_size)
run.glue("n_min_used", n_min_used);

# %% [markdown]
# The proposed method here is the balanced-augmentation page's (same $N_{min}$ =
# {glue:text}`n_min_used`, transforms and settings), so its EfficientNet-B0 point is that page's
# "proposed" row, taken from the results cache when the settings agree. The baselines are
# trained as in Tables 2-3 (focal loss, no augmentation).
#
# ## Model sizes
#
# Parameters (millions) and multiply-adds (billions, what the papers call FLOPs) counted with
# `torch.utils.flop_counter`: with this run's 8-class head at this run's input size, and with
# ImageNet's 1000-class head at the resolution of torchvision's ImageNet weights, beside the
# reference sizes the paper's Fig. 5 draws on (torchvision's B2 weights use 288 px where the
# EfficientNet paper used 260 px, hence B2's larger FLOPs).

# %%
sizes = jg.model_sizes([*size_models, *models, *reference_models], len(se.classes), image_size)
run.table(sizes, "model_sizes")
refs = sizes.dropna(subset=["paper_params_m"])
run.table(paper.compare(
    {**{f"{m} params (M)": r["paper_params_m"] for m, r in refs.iterrows()},
     **{f"{m} FLOPs (B)": r["paper_flops_b"] for m, r in refs.iterrows()}},
    {**{f"{m} params (M)": r["params_m_imagenet"] for m, r in refs.iterrows()},
     **{f"{m} FLOPs (B)": r["flops_b_imagenet"] for m, r in refs.iterrows()}},
    relative=True), "sizes_vs_paper_reference")
weights = "; ".join(f"{m}: {jg.weights_source(m, pretrained)}"
                    for m in dict.fromkeys([*models, *reference_models]))
show_markdown(f"Initial weights: {weights} (`random`: trained from scratch, "
              "not the paper's ImageNet transfer learning).")

# %%
scaling = jg.run_scaling(images, labels, se.classes, models, reference_models,
                         n_min=n_min_used, selected_transforms=selected_transforms,
                         config=config, baseline_config=baseline_config, folds=folds, seed=seed,
                         device=str(run.device), pretrained=pretrained, progress=progress)
run.table(scaling.drop(columns="confusion"), "scaling_folds", display=False)
run.glue("scaling_cached_share", float(scaling["from_cache"].mean()))
table = jg.paper_table(scaling, "fig5", sizes=sizes[["params_m", "flops_b"]])
collapse = jg.prediction_collapse(scaling, ["model", "method"], se.classes)
run.table(collapse, "prediction_collapse", display=False)
if jg.collapse_note(collapse):
    show_markdown(jg.collapse_note(collapse))

# %% [markdown]
# A share of {glue:text}`scaling_cached_share:.2f` of the folds came from the results cache.
#
# ## Accuracy and F1 against model size
#
# Filled markers: this run (mean over folds, bars: sd); open markers: the paper's values where
# it prints them (Table 4's B0, Fig. 5's B5 end point, Table 3's baselines). The x axis uses
# this run's counts (8-class head, this run's input size).

# %%
run.figure(jg.scaling_figure(table, "params_m"), "fig5_params")
run.figure(jg.scaling_figure(table, "flops_b"), "fig5_flops");

# %% [markdown]
# ## Against the paper

# %%
run.table(table, "fig5_scaling")
end = paper.paper_value("jeong2021.fig5_scaling")
last = str(sizes.loc[list(models), "params_m"].idxmax())
row = table.loc[(last, "proposed")]
run.table(paper.compare(dict(zip(jg.METRICS, end["efficientnet_b5"])),
                        {m: row[m] for m in jg.METRICS},
                        labels=("paper: efficientnet_b5", f"this run: {last}")), "endpoint")
trend = jg.scaling_trend(table)
run.glue("largest_model", last)
run.glue("trend_rho", trend["rho"])
run.glue("trend_monotone", "yes" if trend["monotone"] else "no")
run.glue("trend_models", ", ".join(trend["models"]));

# %% [markdown]
# The paper's end point is B5; this run's largest model is {glue:text}`largest_model`. Across
# {glue:text}`trend_models` (proposed method), macro F1 against parameters has Spearman's rho
# {glue:text}`trend_rho:.2f`; it never falls from one model to the next larger:
# {glue:text}`trend_monotone`.
#
# ## The paper's claims

# %%
mine = jg.claim_verdicts(scaling=scaling).loc[["proposed_gain_b0", "gain_b5"]]
own = jg.claim_verdicts(**jg.paper_results()).loc[mine.index]
verdicts = jg.with_paper_verdicts(mine, own)
run.table(verdicts, "claims")
show_markdown(jg.claim_lines(verdicts))
for key, row in verdicts.iterrows():
    run.glue(f"claim_{key}", row["verdict"])

# %%
run.finish();
