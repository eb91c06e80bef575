# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Fig. 4: LIME maps by age group
#
# To see why the model does worse on children, Noh & Lim {cite}`noh2023` explain correctly
# classified faces with LIME {cite}`ribeiro2016lime` and overlay the maps of 10 images per class,
# red on the face and yellow on a simplified map (Fig. 4; happy left out, as its accuracy hardly
# differs between the sets). They read the CAFE maps as spread over the whole face with little on
# the nose bridge, and the NIMH-ChEFS maps as concentrated on the eyes, eyebrows, glabella and
# nose bridge, and on the mouth except for neutral. This page draws the same maps and measures
# where they lie, face region by face region, and how much they move with LIME's random seed.

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
images_per_class = 10  # LIME maps average the first N correctly classified images per class (paper: 10)
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

run = Run.from_parameters("noh2023_lime_age", globals())
net, faces = nh.setup(run, model=model, model_options=model_options, image_size=image_size,
                      seed=seed, progress=progress,
                      datasets={nh.CAFE: (cafe_dataset, cafe_root, cafe_options),
                                nh.NIMH: (nimh_dataset, nimh_root, nimh_options)})

# %%
preds = nh.predict_all(net, faces)
classes = nh.lime_classes(nh.class_order(preds["label"]), include_happy)
lime = nh.run_lime(net, faces, preds, ["dataset"], classes, images_per_class=images_per_class,
                   num_samples=num_samples, num_features=num_features, batch_size=batch_size,
                   seed=seed, progress=progress)
run.glue("n_explained", len(lime.results))
run.glue("lime_classes", ", ".join(classes))
run.glue("short_cells", ", ".join(f"{r.dataset} {r['class']} ({r.n_used})"
                                  for _, r in lime.counts[lime.counts["short"]].iterrows())
         or "none")
run.glue("mean_segments", float(pd.Series([r.n_segments for r in lime.results]).mean()))

# %% [markdown]
# LIME explained {glue:text}`n_explained` images (classes: {glue:text}`lime_classes`), each
# with {glue:text}`mean_segments:.1f` superpixels on average. Maps with fewer than the
# requested images (class: images used): {glue:text}`short_cells`.
#
# ## Fig. 4: where the maps lie
#
# Per class and data set: red, the share of the images whose top-k superpixels cover each
# pixel, on the mean of those faces; yellow, the same on a dimmed face, outlined where at least
# half of the images agree. NIMH-ChEFS has no disgust or surprise. Below the figure, the
# images behind each map against the paper's.

# %%
fig = nh.heatmap_figure(lime, classes, [(nh.CAFE,), (nh.NIMH,)])
run.figure(fig, "fig4_lime_by_age")
run.table(lime.counts, "lime_images_per_map", display=False)
run.table(nh.lime_counts_vs_paper(lime.counts), "images_per_map_vs_paper");

# %% [markdown]
# ## Region shares
#
# Each map's mass split over four face regions built from the five landmarks (eyes and brows;
# glabella and nose; mouth; everything else, including hair and background), and the
# enrichment: the region's share of the map over its share of the image (1: what a map spread
# evenly over the image would give; above 1: the map concentrates there).

# %%
maps = nh.map_regions(lime)
run.figure(nh.region_share_figure(maps, ["dataset"]), "region_enrichment")
run.table(maps, "region_shares")
per_image = nh.image_regions(lime)
run.table(per_image, "region_shares_per_image", display=False);

# %% [markdown]
# ## Stability across LIME seeds
#
# LIME samples its perturbations at random. For the first `stability_images` images of each map,
# the explanation is repeated with each seed in `stability_seeds` (same superpixels): the
# Jaccard overlap of the top-k masks, the correlation of the resulting maps, and the standard
# deviation of each region share across seeds.

# %%
stab = nh.map_stability(net, lime, stability_seeds, stability_images, num_samples=num_samples,
                        num_features=num_features, batch_size=batch_size, progress=progress)
run.table(stab, "stability")
run.glue("stability_iou", float(stab["mask_iou"].mean()))
run.glue("stability_corr", float(stab["map_correlation"].mean()))

# %% [markdown]
# Mean top-k mask overlap across seeds: {glue:text}`stability_iou:.2f`; mean map correlation:
# {glue:text}`stability_corr:.2f`. A region share that moves by more than a few hundredths
# between seeds should not carry a verdict on its own.
#
# ## The paper's claims
#
# The paper reads its maps by eye; here each reading becomes a rule on the region shares (means
# over the classes both sets have; p-values permute the data-set labels of the per-image shares
# within class, `permutations` times). See `emo_lib.noh2023.lime_age_claims` for each rule.

# %%
verdicts = nh.lime_age_claims(maps, per_image, alpha=alpha, n_perm=permutations, seed=seed)
run.table(verdicts, "claims")
show_markdown(nh.claim_lines(verdicts))
for key, row in verdicts.iterrows():
    run.glue(f"claim_{key}", row["verdict"])
claims = paper.paper_value("noh2023.lime.claims")
run.table(pd.Series(claims, name="the paper's reading").to_frame(), "paper_claims");

# %%
run.finish();
