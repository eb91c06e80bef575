# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Fig. 1: the long-tailed SE30K8 class distribution
#
# Jeong & Kim {cite}`jeong2021` train on SE30K8 {cite}`wei2020stockemotion`: about
# {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_images:,` web images in 8 emotion classes, with an imbalance ratio
# (largest class over smallest) of about {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_ratio:d`. Their Fig. 1 shows the
# images per class. This page counts what the run loaded.
#
# *Time to run:* {glue:text}`page_seconds:.0f` s in this build (profile {glue:text}`page_profile:s`).

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.05  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 64  # synthetic only: side of the generated images
seed = 0

# %% tags=["remove-input"]
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from emo_lib import paper
from emo_lib.data import load_dataset, synthetic_options
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("datasets_jeong2021", globals())
se = load_dataset(se30k8_dataset, se30k8_root or None,
                  **synthetic_options(se30k8_dataset, size=image_size, seed=seed, scale=scale),
                  **se30k8_options)
run.banner(se)

# %% tags=["hide-input"]
counts = se.frame["label"].value_counts().reindex(se.classes).sort_values(ascending=False)
ratio = counts.max() / counts.min()
fig, ax = plt.subplots(figsize=(7, 3.5))
sns.barplot(x=counts.index, y=counts.values, ax=ax, color="#4c72b0")
for i, v in enumerate(counts.values):
    ax.text(i, v, f"{v:,}", ha="center", va="bottom", fontsize=8)
ax.set(xlabel="class", ylabel="images",
       title=f"{se.name}: {len(se.frame):,} images, imbalance ratio {ratio:.1f}")
run.figure(fig, "fig1_class_distribution")
run.table(counts.rename("images").to_frame().assign(share=counts / counts.sum()), "class_counts")

# %% [markdown]
# ## Against the paper
#
# The paper gives the total (about 28,000) and the ratio (about 54); its per-class counts are
# only drawn in Fig. 1. A synthetic run at `scale` < 1 generates that fraction of the images,
# so its total is compared against the paper's total times `scale` (the column "paper x
# scale"; the class count and the ratio do not scale). The difference is this run's against
# that column.

# %% tags=["hide-input"]
p = paper.paper_value("jeong2021.dataset")
effective_scale = scale if se.synthetic else 1.0
table = pd.DataFrame({
    "paper": [p["images"], p["classes"], p["imbalance_ratio"]],
    "paper x scale": [p["images"] * effective_scale, p["classes"], p["imbalance_ratio"]],
    "this run": [len(se.frame), len(se.classes), ratio]},
    index=pd.Index(["images", "classes", "imbalance ratio"], name="quantity"))
table["difference"] = table["this run"] - table["paper x scale"]
table["relative difference"] = table["difference"] / table["paper x scale"]
run.table(table.reset_index(), "paper_vs_run")
run.glue("se_images", int(len(se.frame)))
run.glue("se_ratio", float(ratio))
run.glue("se_excluded", int(len(se.exclusions)))

# %% [markdown]
# This run loaded {glue:text}`se_images` images ({glue:text}`se_excluded` excluded) with an
# imbalance ratio of {glue:text}`se_ratio:.1f`.

# %% [markdown]
# ## Summary
#
# This build drew {glue:text}`se_images:,d` images with an imbalance ratio of
# {glue:text}`se_ratio:.1f` ({glue:text}`se_excluded:d` excluded); the paper's SE30K8 has about
# {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_images:,` images at a ratio of {glue:text}`/executed/claims_ledger.ipynb::paper_jeong_ratio:d`.
#
# Next: {doc}`jeong2021_transforms`, the transforms the paper's method draws from.

# %% tags=["remove-input"]
if len(se.exclusions):
    run.table(se.exclusions.groupby("reason").size().rename("files").to_frame(), "exclusion_reasons")
    run.table(se.exclusions, "exclusions")
else:
    show_markdown("No file was excluded in this run.")
run.finish()
