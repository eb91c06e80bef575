# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Tables 1-2: the children's and adolescents' data sets
#
# Noh & Lim {cite}`noh2023` evaluate on CAFE (children, 2-8 years) and NIMH-ChEFS (adolescents,
# 10-17 years). Their Tables 1 and 2 count the images by gender and expression. This page loads
# both data sets, runs them through the face pipeline the models use, and sets the counts beside
# the paper's, with every excluded file and its reason.
#
# *Computed in* {glue:text}`page_seconds:.0f` s in this build (profile
# {glue:text}`page_profile:s`; kernel start-up and cached intermediate results not counted).

# %% tags=["parameters"]
cafe_dataset = "synthetic:cafe_like"  # load_dataset name; "cafe" for the real data
cafe_root = ""  # folder of the real data (default: $CAFE_ROOT)
cafe_options = {}  # real CAFE options, e.g. {"variant": "closed"}, {"manifest": "list.csv"}
nimh_dataset = "synthetic:nimh_like"  # "nimh_chefs" for the real data
nimh_root = ""  # default: $NIMH_CHEFS_ROOT
nimh_options = {}  # adapter options, e.g. {"gaze": "direct"}, {"allow_missing_classes": True}
image_size = 64  # side of the face crops (and of the generated faces)
seed = 0  # generator seed
device = "cpu"  # face detector device: cpu / cuda (falls back to cpu)

# %% tags=["remove-input"]
import pandas as pd

from emo_lib import paper
from emo_lib.data import load_dataset, synthetic_options
from emo_lib.data.adapters.cafe import variant_counts, variant_source
from emo_lib.faces import prepare_faces
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("datasets_noh2023", globals())
gen = dict(size=image_size, seed=seed)
cafe = load_dataset(cafe_dataset, cafe_root or None,
                    **synthetic_options(cafe_dataset, **gen), **cafe_options)
nimh = load_dataset(nimh_dataset, nimh_root or None,
                    **synthetic_options(nimh_dataset, **gen), **nimh_options)
# The face pipeline (detect, align, crop) is what every model sees; its failures are exclusions.
cafe_faces = prepare_faces(cafe, image_size, device=str(run.device))
nimh_faces = prepare_faces(nimh, image_size, device=str(run.device))
cafe, nimh = cafe_faces.manifest, nimh_faces.manifest
run.banner(cafe, nimh)

# %% [markdown]
# ## Table 1: CAFE, images by gender and class
#
# Each block below reads one row of the paper's Table 1 against this run: the paper's count, this
# run's, and the difference (this run minus the paper).

# %% tags=["hide-input"]
genders = ["male", "female", "total"]
t1_paper = paper.table_from_paper("noh2023.table1_cafe_counts", genders)
t1_run = cafe.counts("gender").reindex(index=genders, columns=t1_paper.columns, fill_value=0)
run.table(paper.compare_counts(t1_paper, t1_run), "table1_cafe_counts")
run.glue("cafe_used", int(len(cafe.frame)))
run.glue("cafe_excluded", int(len(cafe.exclusions)))
run.glue("cafe_found", int(cafe.n_found))
run.glue("cafe_paper_used", paper.paper_value("noh2023.datasets.cafe.images_used"))
run.glue("cafe_paper_available", paper.paper_value("noh2023.datasets.cafe.images_available"))

# %% [markdown]
# This run used {glue:text}`cafe_used` CAFE images of the {glue:text}`cafe_found` it found
# ({glue:text}`cafe_excluded` excluded); the paper used {glue:text}`cafe_paper_used`.
#
# ### CAFE's pose variants beside Table 1
#
# The CAFE release poses expressions with the mouth closed and open, and disgust also with the
# tongue out; its file names say which (`angry_F-AA-01.jpg`, `angryopen_M-EA-06b.jpg`,
# `disgustwithtongue_F-LA-03.jpg`), and a letter or `-2` after the child's number marks a
# further photo of the same pose. **The paper used {glue:text}`cafe_paper_available` of the
# images without saying which**: not which variants, nor which photos. The table below counts
# this run's images per variant and class under the paper's Table 1 totals (row `paper`:
# {glue:text}`cafe_paper_used`, after the paper's one exclusion). No
# variant filter is known to give the paper's selection; to run on a subset, pass
# `cafe_options={"variant": "closed"}` (or a list of variants), or the paper's list, if one
# becomes known, as `cafe_options={"manifest": "list.csv"}`.

# %% tags=["hide-input"]
run.table(variant_counts(cafe, paper_total=t1_paper.loc["total"]), "cafe_variant_counts")
cafe_variant_source = variant_source(cafe.frame)
run.glue("cafe_variant_source", cafe_variant_source)
show_markdown({
    "variant": "Variants as the CAFE adapter read them from the file names (or the CSV); "
               "`unknown` where neither says.",
    "mouth": "This data set records no pose variant, only a `mouth` column (open or closed), "
             "so the rows count that column and no tongue variant appears. The synthetic "
             "preset draws a child's poses of an expression alternately open and closed: its "
             "split shows the table working, not the release's split.",
    "none": "This data set records no pose variant: every image counts as `not recorded`.",
}[cafe_variant_source])

# %% [markdown]
# ## Table 2: NIMH-ChEFS, images by gender and class

# %% tags=["hide-input"]
t2_paper = paper.table_from_paper("noh2023.table2_nimh_counts", genders)
t2_run = nimh.counts("gender").reindex(index=genders, columns=t2_paper.columns, fill_value=0)
run.table(paper.compare_counts(t2_paper, t2_run), "table2_nimh_counts")
run.glue("nimh_used", int(len(nimh.frame)))
run.glue("nimh_excluded", int(len(nimh.exclusions)))
run.glue("nimh_paper_used", paper.paper_value("noh2023.datasets.nimh_chefs.images_used"))
if "gaze" in nimh.frame:
    run.table(pd.crosstab(nimh.frame["gaze"], nimh.frame["label"], margins=True), "nimh_gaze")
# A partial set runs only when asked (allow_missing_classes=True); the adapter names the gaps.
missing = {m.name: m.meta.get("missing_classes") for m in (cafe, nimh)}
run.glue("missing_classes", missing)
notes = []
for m in (cafe, nimh):
    gone = missing[m.name]
    if m.synthetic:
        notes.append(f"- `{m.name}`: generated with every class of the paper's table.")
    elif gone is None:
        notes.append(f"- `{m.name}`: its loader does not check for the paper's classes; an "
                     "empty one shows as zero above.")
    elif gone:
        notes.append(f"- `{m.name}`: the set given to this run has no image of "
                     f"{', '.join(gone)}; those columns are zero.")
    else:
        notes.append(f"- `{m.name}`: every class of the paper has images in this set.")
show_markdown("\n".join(notes))

# %% [markdown]
# This run used {glue:text}`nimh_used` NIMH-ChEFS images ({glue:text}`nimh_excluded` excluded);
# the paper used all {glue:text}`nimh_paper_used`, both gaze directions. A reader with part of
# the set (some expressions missing) runs with `nimh_options={"allow_missing_classes": True}`;
# the list above names the expressions the set lacks.

# %% [markdown]
# ## Excluded files
#
# Nothing is dropped silently: every file a loader found and did not use is listed here with its
# reason (a count of reasons first). The paper excluded one CAFE image, a disgust face that was
# not detected.

# %% tags=["hide-input"]
excl = pd.concat({"CAFE": cafe.exclusions, "NIMH-ChEFS": nimh.exclusions},
                 names=["data set", "#"]).reset_index(level=0)
if len(excl):
    run.table(excl.groupby(["data set", "reason"]).size().rename("files").reset_index(),
              "exclusion_reasons")
    run.table(excl, "exclusions")
else:
    show_markdown("No file was excluded in this run.")
show_markdown("The paper's CAFE exclusions:")
run.table(pd.DataFrame(paper.paper_value("noh2023.datasets.cafe.excluded")), "paper_exclusions");

# %% [markdown]
# ## What differs from the paper, and why
#
# - The synthetic presets are drawn to match Tables 1 and 2 cell for cell, so on synthetic data
#   every difference above is zero by construction: the page shows that the counting works, not
#   that the data match.
# - The CAFE release holds more images than the paper's {glue:text}`cafe_paper_available`
#   (see the variant table). Which subset the paper used is not stated, so a full CAFE run is
#   expected to differ in every cell: the loader uses every variant of whatever it is pointed
#   at, unless given a variant filter or a manifest CSV.
# - NIMH-ChEFS: the paper's {glue:text}`nimh_paper_used` images include both gaze directions
#   (direct and averted).

# %% [markdown]
# ## Summary
#
# This build used {glue:text}`cafe_used:d` CAFE images ({glue:text}`cafe_excluded:d` excluded) and
# {glue:text}`nimh_used:d` NIMH-ChEFS images ({glue:text}`nimh_excluded:d` excluded).
#
# Next: {doc}`datasets_jeong2021`, the second paper's data; then {doc}`noh2023_age_accuracy`.

# %% tags=["remove-input"]
run.finish()
