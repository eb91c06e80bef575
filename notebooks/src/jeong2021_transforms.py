# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Table 1: the transform catalogue
#
# Jeong & Kim {cite}`jeong2021` augment SE30K8 with image transforms whose magnitudes their
# Table 1 lists for 224 x 224 inputs. Tables 2-3 then try ten transforms one at a time; Table 1
# lists nine (random zoom is missing). This page shows the catalogue `emo_lib.augment`
# implements with `torchvision.transforms.v2`, the ranges it uses at this run's image size, and
# every transform applied once to an image of the data set.
#
# *Time to run:* {glue:text}`page_seconds:.0f` s in this build (profile {glue:text}`page_profile:s`).

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.05  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 64  # side of the images (the paper: 224)
example_index = 0  # which image of the data set the example grid transforms
seed = 0

# %% tags=["remove-input"]
from emo_lib import augment, paper
from emo_lib import jeong2021 as jg
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("jeong2021_transforms", globals())
se, images, labels = jg.load_se30k8(se30k8_dataset, se30k8_root, se30k8_options, scale=scale,
                                    image_size=image_size, seed=seed)
run.banner(se)

# %% [markdown]
# ## Every transform once
#
# The first panel is the untransformed image; each other panel is one random draw of one
# transform at this run's image size (pixel magnitudes scaled from 224 px, see the table
# below).

# %% tags=["hide-input"]
if not 0 <= example_index < len(images):
    raise ValueError(f"example_index {example_index} is outside the {len(images)} images")
fig = augment.example_grid(images[example_index], seed=seed, ncols=6, panel_inches=1.8)
fig.suptitle(f"image {example_index} ({se.classes[labels[example_index]]}), "
             f"{image_size} x {image_size} px", y=1.02)
run.figure(fig, "example_grid");

# %% [markdown]
# ## The catalogue
#
# `paper_range` is Table 1 as printed (`-`: no range printed), `range_224` what `emo_lib` uses
# at the paper's 224 px and `range_used` what it uses at this run's size.

# %% tags=["hide-input"]
at_paper = augment.catalogue(augment.PAPER_IMAGE_SIZE).set_index("name")
here = augment.catalogue(image_size).set_index("name")
catalogue = at_paper[["operation", "paper_range", "in_table1"]].assign(
    range_224=at_paper["range_used"], range_used=here["range_used"])
run.table(catalogue, "catalogue");

# %% [markdown]
# ## Against the paper
#
# Table 1's ranges (from `book/paper_values.yaml`) against the ranges `emo_lib.augment`
# implements at 224 px, bound by bound: every difference should be zero.

# %% tags=["hide-input"]
table1 = paper.paper_value("jeong2021.table1_transforms")
paper_bounds, lib_bounds = {}, {}
for name, row in table1.items():
    rng = row["range"]
    ours = augment.PAPER_RANGES.get(name)
    for j, bound in enumerate(("low", "high")):
        paper_bounds[f"{name} ({bound})"] = None if rng is None else rng[j]
        lib_bounds[f"{name} ({bound})"] = None if ours is None else ours[j]
bounds = paper.compare(paper_bounds, lib_bounds, labels=("paper", "emo_lib"))
run.table(bounds, "paper_vs_emo_lib_ranges")
mismatch = bounds["difference"].abs().fillna(0).gt(0) | (
    bounds["paper"].isna() != bounds["emo_lib"].isna())
run.glue("n_transforms", len(augment.TRANSFORMS))
run.glue("n_in_table1", int(catalogue["in_table1"].sum()))
run.glue("n_range_mismatch", int(mismatch.sum()))
run.glue("zoom_range", f"[{1 + augment.ZOOM_RANGE[0]:g}, {1 + augment.ZOOM_RANGE[1]:g}]");

# %% [markdown]
# The catalogue has {glue:text}`n_transforms` transforms, {glue:text}`n_in_table1` of them in
# Table 1; {glue:text}`n_range_mismatch` printed bounds differ from the implementation.
#
# ## Random zoom, which Table 1 omits
#
# The paper's own note:

# %% tags=["hide-input"]
show_markdown("\n".join(f"- {n}" for n in paper.paper_notes("jeong2021", "random zoom")))
show_markdown(f"Its range is not printed anywhere; `emo_lib` uses a scale factor in "
              f"{run.values['zoom_range']} (the +/-0.3 of Table 1's other rate magnitudes), "
              "as `emo_lib.augment.ZOOM_RANGE` records.")

# %% [markdown]
# ## Summary
#
# The catalogue implements {glue:text}`n_transforms:d` transforms, {glue:text}`n_in_table1:d` of
# them listed in Table 1; {glue:text}`n_range_mismatch:d` ranges differ from the table at this
# run's image size.
#
# Next: {doc}`jeong2021_augmentation_sweep` trains with each transform in turn.

# %% tags=["remove-input"]
run.finish();
