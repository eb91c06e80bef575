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
# classified faces with LIME {cite}`ribeiro2016lime` and overlay the maps of
# {glue:text}`paper_lime_images` images per class, red on the face and yellow on a simplified map
# (Fig. 4; {glue:text}`paper_lime_excluded` left out, as its accuracy hardly differs between the
# sets). They read the CAFE maps as spread over the whole face with little on the nose bridge,
# and the NIMH-ChEFS maps as concentrated on the eyes, eyebrows, glabella and nose bridge, and on
# the mouth except for neutral. This page draws the same maps, measures where they lie in five
# face regions, checks on the synthetic faces whether the maps find where the expressions are at
# all, measures how much they move with LIME's random seed, and tests each reading, once per
# seed in `seeds` (each seed trains the stand-in anew and samples LIME anew; the figures are the
# first seed's).
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
images_per_class = 10  # LIME maps average the first N correctly classified images per class (paper: 10)
include_happy = False  # the paper leaves happy out of its LIME figures
num_samples = 200  # LIME perturbed samples per image (lime's default: 1000; the paper profile: 1000)
num_features = 5  # k of the top-k positive superpixels per image
segmentation = {"method": "slic", "n_segments": 160, "compactness": 10.0}  # superpixels: slic, or quickshift (lime's default; kernel_size, max_dist, ratio)
batch_size = 256  # perturbed images built and sent to the model at once (its forward-pass size too)
stability_seeds = [0, 1, 2]  # LIME seeds compared for the stability of each map
stability_images = 10  # images per map re-explained with every stability seed
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
from emo_lib.explain import REGION_LABELS, draw_regions
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("noh2023_lime_age", globals())
for key, value in nh.paper_quotes().items():
    run.glue(key, value)
run.glue("moved_threshold", nh.MOVED_ENRICHMENT)
nets, faces = nh.setup_seeds(run, model=model, model_options=model_options,
                             image_size=image_size, seed=seed, seeds=seeds, kind="lime",
                             progress=progress,
                             datasets={nh.CAFE: (cafe_dataset, cafe_root, cafe_options),
                                       nh.NIMH: (nimh_dataset, nimh_root, nimh_options)})

# %% tags=["hide-input"]
preds_by_seed = nh.predictions_by_seed(nets, faces)
net, preds = nets[seeds[0]], preds_by_seed[seeds[0]]
classes = nh.lime_classes(nh.class_order(preds["label"]), include_happy)
limes = nh.lime_by_seed(nets, faces, preds_by_seed, ["dataset"], classes,
                        images_per_class=images_per_class, num_samples=num_samples,
                        num_features=num_features, batch_size=batch_size,
                        segmentation=segmentation, progress=progress)
lime = limes[seeds[0]]
superpixels = nh.superpixels_on_face(lime)
run.glue("n_explained", len(lime.results))
run.glue("lime_classes", ", ".join(classes))
run.glue("short_cells", ", ".join(f"{r.dataset} {r['class']} ({r.n_used})"
                                  for _, r in lime.counts[lime.counts["short"]].iterrows())
         or "none")
run.glue("mean_segments", float(superpixels["n_segments"].mean()))
run.glue("mean_segments_face", float(superpixels["n_on_face"].mean()))
run.glue("min_segments_face", int(superpixels["n_on_face"].min()))
run.glue("segmentation", ", ".join(f"{k}={v}" for k, v in lime.segmentation.items()))

# %% [markdown]
# LIME explained {glue:text}`n_explained` images (classes: {glue:text}`lime_classes`) with
# superpixels from {glue:text}`segmentation`: {glue:text}`mean_segments:.0f` per image on
# average, {glue:text}`mean_segments_face:.0f` of them on the face (at least
# {glue:text}`min_segments_face`), so a top-5 mask can pick out parts of a face. Maps with fewer
# than the requested images (class: images used): {glue:text}`short_cells`.
#
# ## Fig. 4: where the maps lie
#
# Per class and data set: red, the share of the map's images whose top-k superpixels cover each
# pixel, on the mean of those faces; yellow, the same on a dimmed face, outlined where at least
# half of the images agree. The colour bar gives the scale; each map's title the number of images
# behind it. NIMH-ChEFS has no disgust or surprise. Below the figure, the images behind each map
# against the paper's.

# %% tags=["hide-input"]
fig = nh.heatmap_figure(lime, classes, [(nh.CAFE,), (nh.NIMH,)])
run.figure(fig, "fig4_lime_by_age")
run.table(lime.counts, "lime_images_per_map", display=False)
run.table(nh.lime_counts_vs_paper(lime.counts), "images_per_map_vs_paper");

# %% [markdown]
# ## Region shares
#
# Each map's mass split over five regions built from each face's five landmarks (shown below on
# one of the explained faces): eyes and brows; glabella and nose bridge; mouth; the rest of the
# face (inside a face outline: the ellipse in the face box MTCNN draws around real faces, the
# same box that frames every crop); and outside the face (hair, ears, neck, background). The
# enrichment is a region's share of the map over its share of the image: 1 is what a map spread
# evenly over the image would give; above 1, the map concentrates there.

# %% tags=["hide-input"]
run.figure(draw_regions(lime.images[0], lime.landmarks[0]), "face_regions")
maps = nh.map_regions(lime)
run.figure(nh.region_share_figure(maps, ["dataset"]), "region_enrichment")
run.table(maps, "region_shares", display=False)
run.table(nh.region_summary(maps, ["dataset"]), "region_shares_summary")
per_image = nh.image_regions(lime)
run.table(per_image, "region_shares_per_image", display=False);

# %% [markdown]
# ## Sanity check: do the maps find where the expressions are?
#
# On the synthetic faces the answer is known. Each expression is drawn from its facial action
# units (happy: AU6, AU12, AU25; ...), so the generator can draw a face twice, with and without
# the expression, and measure which regions the expression changes. If LIME's maps do not fall on
# those regions more than on the rest of the face, they cannot show which regions a model uses,
# on this data or any other. First, where each class's action units change the face
# (``moved``: the regions at least {glue:text}`moved_threshold` times as changed as their share
# of the face); then, per map, whether the LIME masks fall there.

# %% tags=["hide-input"]
if all(f.manifest.synthetic for f in faces.values()):
    moved = nh.moved_regions(classes, lime.images.shape[1], seed=seed)
    shown = moved[["aus", "moved"]].assign(
        moved=moved["moved"].map(lambda rs: ", ".join(REGION_LABELS[r] for r in rs) or "none"))
    run.table(shown.join(moved.filter(like="moved_enrichment_")), "moved_regions")
    sanity = nh.sanity_table(per_image, moved, alpha=alpha)
    run.table(sanity, "sanity", columns=["dataset", "class", "moved", "n_images", "share",
                                         "enrichment", "p_value", "verdict"])
    sanity_verdict, sanity_sentence = nh.sanity_summary(sanity, alpha=alpha)
else:
    sanity_verdict = "not testable"
    sanity_sentence = ("These are real photographs: which regions each expression moves is not "
                       "known here, so this check runs only on the synthetic sets.")
run.glue("sanity_verdict", sanity_verdict)
show_markdown(sanity_sentence)
show_markdown(nh.sanity_rule_markdown(alpha=alpha))

# %% [markdown]
# Over all maps: *{glue:text}`sanity_verdict`*.
#
# ## Stability across LIME seeds
#
# LIME samples its perturbations at random. Every map's first `stability_images` images are
# explained again with each seed in `stability_seeds` (same superpixels): the Jaccard overlap of
# the top-k masks across seeds, the correlation of the resulting maps, and the standard deviation
# of each region share across seeds (`max_share_sd`: the largest of the five).

# %% tags=["hide-input"]
stab = nh.map_stability(net, lime, stability_seeds, stability_images,
                        num_features=num_features, batch_size=batch_size, progress=progress)
run.table(stab, "stability", columns=["dataset", "class", "n_images", "n_seeds", "mask_iou",
                                      "map_correlation", "max_share_sd"])
run.glue("stability_images_total", int(stab["n_images"].sum()) if len(stab) else 0)
run.glue("stability_iou", float(stab["mask_iou"].mean()))
run.glue("stability_corr", float(stab["map_correlation"].mean()))
run.glue("stability_share_sd", float(stab["max_share_sd"].mean()))

# %% [markdown]
# {glue:text}`stability_images_total` images, each explained with every seed: mean top-k mask
# overlap across seeds {glue:text}`stability_iou:.2f`, mean map correlation
# {glue:text}`stability_corr:.2f`; a map's largest region share moves by
# {glue:text}`stability_share_sd:.3f` (standard deviation) between seeds on average. A difference
# between two maps smaller than that is not one LIME can show.
#
# ## The paper's claims
#
# The paper reads its maps by eye; here each reading becomes a rule on the per-image region
# shares (means over the classes both sets have), and each condition of a reading gets its own
# test: a comparison of the two data sets permutes their labels within class `permutations`
# times; "more (or less) than its area" is a one-sample test of the per-image share minus the
# region's area. A reading of several conditions is contradicted only when a tested condition
# is significantly the other way. The paper's own evidence is the figure, so its column is *not
# testable*.

# %% tags=["hide-input"]
run.claims(nh.lime_age_claims_by_seed(limes, alpha=alpha, n_perm=permutations),
           nh.claim_rules("lime_age", run.params))
claims = paper.paper_value("noh2023.lime.claims")
run.table(pd.Series(claims, name="the paper's reading").to_frame(), "paper_claims");

# %% [markdown]
# Read these verdicts with the sanity check above: unless it is *supported*, region claims on
# this run's maps are not evidence about faces, whatever their p-values.

# %% [markdown]
# ## Summary
#
# The sanity check (do the maps find the regions the expressions move?):
# *{glue:text}`sanity_verdict`*. The paper's readings: CAFE spread over the face
# *{glue:text}`claim_cafe_spread`*, little on the nose bridge *{glue:text}`claim_cafe_little_nose`*;
# NIMH-ChEFS on eyes, brows, glabella and nose bridge *{glue:text}`claim_nimh_upper_face`*, on the
# mouth except for neutral *{glue:text}`claim_nimh_mouth_except_neutral`*.
#
# Next: {doc}`noh2023_lime_gender` draws the same maps for boys and girls.

# %% tags=["remove-input"]
run.finish();
