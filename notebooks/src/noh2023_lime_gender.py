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
# apart: Fig. 7 for CAFE, Fig. 8 for NIMH-ChEFS, {glue:text}`paper_lime_images` correctly
# classified images per class and gender (CAFE's male sad had only
# {glue:text}`paper_lime_cafe_male_sad` correct), {glue:text}`paper_lime_excluded` left out. They
# see no clear male/female difference in either set. This page draws the same maps, measures
# their region shares and tests the claim as what it is, a claim of no difference: it holds only
# if an equivalence test puts every region's male/female difference within a stated margin. The
# claim is tested once per seed in `seeds` (each seed trains the stand-in anew and samples LIME
# anew; the figures are the first seed's).
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
images_per_class = 10  # LIME maps average the first N correctly classified images per class and gender (paper: 10)
include_happy = False  # the paper leaves happy out of its LIME figures
num_samples = 200  # LIME perturbed samples per image (lime's default: 1000; the paper profile: 1000)
num_features = 5  # k of the top-k positive superpixels per image
segmentation = {"method": "slic", "n_segments": 160, "compactness": 10.0}  # superpixels: slic, or quickshift (lime's default; kernel_size, max_dist, ratio)
batch_size = 256  # perturbed images built and sent to the model at once (its forward-pass size too)
stability_seeds = [0, 1, 2]  # LIME seeds compared for the stability of each map
stability_images = 10  # images per map re-explained with every stability seed
equivalence_margin = 0.1  # "no clear difference": every region's male/female share difference within +/- this
permutations = 2000  # permutations of the region-share tests
alpha = 0.05  # significance level of the verdicts
progress = False  # tqdm progress bars (interactive use)
seed = 0  # the synthetic data sets' draw (one draw, as the paper's data sets are one set of photographs)
seeds = [0]  # seeds of the stand-in's training, LIME's sampling and the permutations: the claims are computed once per seed; figures from the first
device = "cpu"  # cpu / cuda / auto

# %% tags=["remove-input"]
import pandas as pd

from emo_lib import noh2023 as nh
from emo_lib import paper
from emo_lib.book.report import Run

run = Run.from_parameters("noh2023_lime_gender", globals())
for key, value in nh.paper_quotes().items():
    run.glue(key, value)
run.glue("equivalence_margin", equivalence_margin)
run.glue("equivalence_level", f"{1 - 2 * alpha:.0%}")
nets, faces = nh.setup_seeds(run, model=model, model_options=model_options,
                             image_size=image_size, seed=seed, seeds=seeds, kind="lime",
                             progress=progress,
                             datasets={nh.CAFE: (cafe_dataset, cafe_root, cafe_options),
                                       nh.NIMH: (nimh_dataset, nimh_root, nimh_options)})

# %% tags=["hide-input"]
preds_by_seed = nh.predictions_by_seed(nets, faces)
net, preds = nets[seeds[0]], preds_by_seed[seeds[0]]
classes = nh.lime_classes(nh.class_order(preds["label"]), include_happy)
limes = nh.lime_by_seed(nets, faces, preds_by_seed, ["dataset", "gender"], classes,
                        images_per_class=images_per_class, num_samples=num_samples,
                        num_features=num_features, batch_size=batch_size,
                        segmentation=segmentation, progress=progress)
lime = limes[seeds[0]]
genders = [g for g in nh.GENDERS if g in set(preds["gender"])]
superpixels = nh.superpixels_on_face(lime)
run.glue("n_explained", len(lime.results))
run.glue("mean_segments_face", float(superpixels["n_on_face"].mean()))
run.glue("short_cells", ", ".join(f"{r.dataset} {r.gender} {r['class']} ({r.n_used})"
                                  for _, r in lime.counts[lime.counts["short"]].iterrows())
         or "none")

# %% [markdown]
# LIME explained {glue:text}`n_explained` images ({glue:text}`mean_segments_face:.0f`
# superpixels on the face on average; explanations the age page already made for the same image,
# model and settings come from the cache). Maps with fewer than the requested images (images
# used): {glue:text}`short_cells`.
#
# ## Fig. 7: CAFE, boys and girls
#
# As Fig. 4: red, the share of the map's images whose top-k superpixels cover each pixel (scale
# on the colour bar), on the mean face; yellow, the same on a dimmed face, outlined where at least
# half agree; each title gives the images behind the map.

# %% tags=["hide-input"]
fig = nh.heatmap_figure(lime, classes, [(nh.CAFE, g) for g in genders])
run.figure(fig, "fig7_lime_cafe_by_gender");

# %% [markdown]
# ## Fig. 8: NIMH-ChEFS, boys and girls

# %% tags=["hide-input"]
nimh_classes = [c for c in classes if c in set(preds.loc[preds["dataset"] == nh.NIMH, "label"])]
fig = nh.heatmap_figure(lime, nimh_classes, [(nh.NIMH, g) for g in genders])
run.figure(fig, "fig8_lime_nimh_by_gender");

# %% [markdown]
# ## Images per map, against the paper
#
# The paper used {glue:text}`paper_lime_images` images per map except CAFE's male sad. This run
# uses the first `images_per_class` correct ones, or all there are.

# %% tags=["hide-input"]
run.table(nh.lime_counts_vs_paper(lime.counts), "images_per_map_vs_paper")
run.table(lime.counts, "lime_images_per_map", display=False);

# %% [markdown]
# ## Region shares
#
# Each map's mass over the five face regions (eyes and brows; glabella and nose bridge; mouth;
# the rest of the face; outside the face: see the age page for the regions drawn on a face), and
# the enrichment: the region's share of the map over its share of the image (1: a map spread
# evenly).

# %% tags=["hide-input"]
maps = nh.map_regions(lime)
run.figure(nh.region_share_figure(maps, ["dataset", "gender"]), "region_enrichment")
run.table(maps, "region_shares", display=False)
run.table(nh.region_summary(maps, ["dataset", "gender"]), "region_shares_summary")
per_image = nh.image_regions(lime)
run.table(per_image, "region_shares_per_image", display=False);

# %% [markdown]
# ## Stability across LIME seeds
#
# Every map's first `stability_images` images, explained again with each seed in
# `stability_seeds` (same superpixels): overlap of the top-k masks, correlation of the maps,
# spread of the region shares. A male/female difference smaller than this seed-to-seed movement
# is not a difference LIME can show.

# %% tags=["hide-input"]
stab = nh.map_stability(net, lime, stability_seeds, stability_images,
                        num_features=num_features, batch_size=batch_size, progress=progress)
run.table(stab, "stability", columns=["dataset", "gender", "class", "n_images", "mask_iou",
                                      "map_correlation", "max_share_sd"])
run.glue("stability_images_total", int(stab["n_images"].sum()) if len(stab) else 0)
run.glue("stability_iou", float(stab["mask_iou"].mean()))
run.glue("stability_share_sd", float(stab["max_share_sd"].mean()))

# %% [markdown]
# {glue:text}`stability_images_total` images, each explained with every seed: mean top-k mask
# overlap across seeds {glue:text}`stability_iou:.2f`; a map's largest region share moves by
# {glue:text}`stability_share_sd:.3f` (standard deviation) between seeds on average.
#
# ## The paper's claim: no clear male/female difference
#
# A claim of no difference is supported only by an equivalence test. Per data set and region, the
# male minus female difference of the per-image region shares, averaged over classes, with its
# {glue:text}`equivalence_level` interval: the claim is *supported* when every region's interval
# lies within +/-{glue:text}`equivalence_margin` (a tenth of a map's mass moving into or out of a
# region: the paper judged its overlays by eye, and a smaller shift is hard to see on a
# 10-image overlay; compare it with the seed-to-seed spread above); *contradicted* when a
# one-sided test puts some region's difference beyond the margin (Holm over the regions);
# *inconclusive* otherwise (*partly supported* when some regions are shown within it). A region
# whose share never varies (say, never in a mask) has an exactly known difference. For scale,
# the total-variation distance of the share vectors between boys and girls and between CAFE and
# NIMH-ChEFS on these images (permutation tests, `permutations` times).

# %% tags=["hide-input"]
verdicts, distances, equivalence = nh.lime_gender_claims_by_seed(
    limes, alpha=alpha, n_perm=permutations, margin=equivalence_margin)
run.table(equivalence, "region_equivalence", columns=["dataset", "region", "n_a", "n_b",
                                                      "difference", "ci_low", "ci_high",
                                                      "tost_p", "beyond_p", "equivalent"])
run.table(distances, "region_distances")
run.claims(verdicts, nh.claim_rules("lime_gender", run.params))
run.table(pd.Series({"gender": paper.paper_value("noh2023.lime.claims.gender")},
                    name="the paper's reading").to_frame(), "paper_claims");

# %% [markdown]
# The age page's sanity check says whether these maps find where the synthetic expressions are at
# all; where it does not, neither a difference nor its absence here says anything about faces.

# %% [markdown]
# ## Summary
#
# No clear male/female difference in where the maps lie: CAFE
# *{glue:text}`claim_cafe_no_gender_difference`*, NIMH-ChEFS
# *{glue:text}`claim_nimh_chefs_no_gender_difference`*; the maps' top-k masks overlap
# {glue:text}`stability_iou:.2f` across LIME seeds.
#
# Next: {doc}`noh2023_additional_training` trains the model further on children.

# %% tags=["remove-input"]
run.finish();
