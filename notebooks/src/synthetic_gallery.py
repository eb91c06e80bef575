# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Gallery of the synthetic faces
#
# The embedded default every page runs on when the real data are not given (see
# {ref}`synthetic-faces`): expressions x age group x gender. The first gallery shows each
# expression's prototype at full intensity; the second shows faces as the presets draw them,
# where children's expressions are weaker and more variable by design.
#
# *Computed in* {glue:text}`page_seconds:.0f` s in this build (profile
# {glue:text}`page_profile:s`; kernel start-up and cached intermediate results not counted).

# %% tags=["parameters"]
gallery_size = 96  # pixels per face in the galleries
seed = 0  # identity / expression seed
proportions_size = 64  # face-crop side of the presets measured for proportions (as paper 1's pages)
adult_n = 3500  # adult_pretrain images measured (the stand-in model's training set)

# %% tags=["remove-input"]
from emo_lib.data import EMOTIONS_8
from emo_lib.data.synthetic import mechanism_table
from emo_lib.face_gallery import gallery_figure, proportions_table
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("synthetic_gallery", globals())
show_markdown("```{admonition} Synthetic faces\n:class: warning\nEvery face on this page is drawn by "
              "`emo_lib.data.synthetic`; none is a photograph or comes from the papers' data.\n```")

# %% [markdown]
# ## Prototypes at full intensity
#
# One identity per column (age group x gender), every expression at intensity 1 with no
# per-face noise: a viewer should tell the eight expressions apart in every column.

# %% tags=["hide-input"]
fig = gallery_figure(EMOTIONS_8, size=gallery_size, seed=seed, prototype=True)
run.figure(fig, "gallery_prototypes")

# %% [markdown]
# ## As the presets draw them
#
# The same grid with expressions sampled as in the presets: intensity, per-action-unit noise,
# dropped action units and blends all depend on the age group.

# %% tags=["hide-input"]
fig = gallery_figure(EMOTIONS_8, size=gallery_size, seed=seed, prototype=False)
run.figure(fig, "gallery_sampled")

# %% [markdown]
# ## The mechanisms, as the generator uses them
#
# Every constant that makes children's and adolescents' faces differ from adults', read from the
# generator itself (so this table cannot drift from the code).

# %% tags=["hide-input"]
run.table(mechanism_table(), "mechanisms")

# %% [markdown]
# ## Framing and proportions
#
# The presets' face crops measured with `emo_lib.faces.landmark_proportions` (eye to eye, mouth
# corner to corner, eye line to mouth line, as fractions of the crop side; the ratio is
# eye-to-mouth over eye-to-eye), beside real adult photographs cropped by the same pipeline and
# the children the growth studies describe (see {ref}`synthetic-faces`). The face box follows
# the eye-to-mouth distance, so that column is nearly the same for everyone; age shows in the
# eye distance, the mouth width and their ratios.

# %% [markdown]
# ## Summary
#
# These are the faces every page runs on when the real data are not given: their counts mirror
# the papers' tables, their framing the photographs'.
#
# Next: {doc}`../book/real_data`, to run the same pages on CAFE, NIMH-ChEFS and SE30K8.

# %% tags=["remove-input"]
run.table(proportions_table(size=proportions_size, seed=seed, adult_n=adult_n), "proportions")
run.finish()
