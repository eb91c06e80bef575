# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Figs. 7-8: LIME maps by gender
#
# Noh & Lim {cite}`noh2023` repeat the LIME maps of Fig. 4 within each data set, boys and girls
# apart: Fig. 7 for CAFE, Fig. 8 for NIMH-ChEFS, 10 correctly classified images per class and
# gender (CAFE's male sad had only 8 correct, so 8), happy left out. They see no clear
# male/female difference in either set. This page draws the same maps, measures their region
# shares and tests the male/female difference against LIME's own variability.

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
images_per_class = 10  # LIME maps average the first N correctly classified images per class and gender (paper: 10)
include_happy = False  # the paper leaves happy out of its LIME figures
num_samples = 150  # LIME perturbed samples per image (paper profile: 1000, lime's default)
num_features = 5  # k of the top-k positive superpixels per image
batch_size = 256  # perturbed images sent to the model at once
stability_seeds = [0, 1, 2]  # LIME seeds compared for the stability of each map
stability_images = 2  # images per map re-explained with every stability seed
permutations = 2000  # permutations of the region-share tests
alpha = 0.05  # significance level of the verdicts
progress = False  # tqdm progress bars (interactive use)
seed = 0  # generator seed and LIME sampling seed
device = "cpu"  # cpu / cuda / auto

# %%
import pandas as pd

from emo_lib import noh2023 as nh
from emo_lib import paper
from emo_lib.report import Run, show_markdown

run = Run.from_parameters("noh2023_lime_gender", globals())
net, faces = nh.setup(run, model=model, model_options=model_options, image_size=image_size,
                      seed=seed, progress=progress,
                      datasets={nh.CAFE: (cafe_dataset, cafe_root, cafe_options),
                                nh.NIMH: (nimh_dataset, nimh_root, nimh_options)})

# %%
preds = nh.predict_all(net, faces)
classes = nh.lime_classes(nh.class_order(preds["label"]), include_happy)
lime = nh.run_lime(net, faces, preds, ["dataset", "gender"], classes,
                   images_per_class=images_per_class, num_samples=num_samples,
                   num_features=num_features, batch_size=batch_size, seed=seed,
                   progress=progress)
genders = [g for g in nh.GENDERS if g in set(preds["gender"])]
run.glue("n_explained", len(lime.results))
run.glue("short_cells", ", ".join(f"{r.dataset} {r.gender} {r['class']} ({r.n_used})"
                                  for _, r in lime.counts[lime.counts["short"]].iterrows())
         or "none")

# %% [markdown]
# LIME explained {glue:text}`n_explained` images (explanations the age page already made for
# the same image, model and settings come from the cache). Maps with fewer than the requested
# images (images used): {glue:text}`short_cells`.
#
# ## Fig. 7: CAFE, boys and girls
#
# As Fig. 4: red, the share of the images whose top-k superpixels cover each pixel, on the mean
# face; yellow, the same on a dimmed face, outlined where at least half agree.

# %%
fig = nh.heatmap_figure(lime, classes, [(nh.CAFE, g) for g in genders])
run.figure(fig, "fig7_lime_cafe_by_gender");

# %% [markdown]
# ## Fig. 8: NIMH-ChEFS, boys and girls

# %%
nimh_classes = [c for c in classes if c in set(preds.loc[preds["dataset"] == nh.NIMH, "label"])]
fig = nh.heatmap_figure(lime, nimh_classes, [(nh.NIMH, g) for g in genders])
run.figure(fig, "fig8_lime_nimh_by_gender");

# %% [markdown]
# ## Images per map, against the paper
#
# The paper used 10 images per map except CAFE's male sad (8 correct). This run uses the
# first `images_per_class` correct ones, or all there are.

# %%
run.table(nh.lime_counts_vs_paper(lime.counts), "images_per_map_vs_paper")
run.table(lime.counts, "lime_images_per_map", display=False);

# %% [markdown]
# ## Region shares
#
# Each map's mass over the face regions (eyes and brows; glabella and nose; mouth; the rest),
# and the enrichment: the region's share of the map over its share of the image (1: a map
# spread evenly).

# %%
maps = nh.map_regions(lime)
run.figure(nh.region_share_figure(maps, ["dataset", "gender"]), "region_enrichment")
run.table(maps, "region_shares")
per_image = nh.image_regions(lime)
run.table(per_image, "region_shares_per_image", display=False);

# %% [markdown]
# ## Stability across LIME seeds
#
# The first `stability_images` images of each map, explained again with each seed in
# `stability_seeds` (same superpixels): overlap of the top-k masks, correlation of the maps,
# spread of the region shares. A male/female difference smaller than this seed-to-seed
# movement is not a difference LIME can show.

# %%
stab = nh.map_stability(net, lime, stability_seeds, stability_images, num_samples=num_samples,
                        num_features=num_features, batch_size=batch_size, progress=progress)
run.table(stab, "stability")
run.glue("stability_iou", float(stab["mask_iou"].mean()))
run.glue("stability_share_sd", float(stab[[c for c in stab if c.endswith("_sd")]]
                                     .to_numpy().mean()))

# %% [markdown]
# Mean top-k mask overlap across seeds: {glue:text}`stability_iou:.2f`; mean standard
# deviation of a region share across seeds: {glue:text}`stability_share_sd:.3f`.
#
# ## The paper's claim: no clear male/female difference
#
# Per data set, the male/female distance between the mean region shares (total variation:
# half the summed absolute differences; 0 = same, 1 = disjoint), averaged over classes, with a
# permutation test (gender shuffled within class, `permutations` times). For scale, the same
# distance between CAFE and NIMH-ChEFS on these images. *Supported* means no difference at
# `alpha`: an absence of evidence, as weak as the test is (10 images a cell).

# %%
verdicts, distances = nh.lime_gender_claims(per_image, alpha=alpha, n_perm=permutations,
                                            seed=seed)
run.table(distances, "region_distances")
run.table(verdicts, "claims")
show_markdown(nh.claim_lines(verdicts))
for key, row in verdicts.iterrows():
    run.glue(f"claim_{key}", row["verdict"])
run.table(pd.Series({"gender": paper.paper_value("noh2023.lime.claims.gender")},
                    name="the paper's reading").to_frame(), "paper_claims");

# %%
run.finish();
