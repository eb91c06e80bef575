# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Tables 2-3: augmentation x model x loss
#
# Jeong & Kim {cite}`jeong2021` add, for each transform of their catalogue in turn, one
# transformed copy of every training image, and train VGG-16, ResNet-50 and EfficientNet-B0
# with cross entropy (Table 2) and focal loss (Table 3), 5-fold. They report that
# EfficientNet-B0 wins everywhere, that focal loss beats cross entropy in F1 for all transforms
# but random flip and random height, and pick the five transforms with the best
# EfficientNet-B0 F1 in Table 3 for their method. This page reruns the grid this run's
# parameters name.

# %% tags=["parameters"]
se30k8_dataset = "synthetic:se30k8_like"  # "se30k8" for the real data
se30k8_root = ""  # default: $SE30K8_ROOT
se30k8_options = {}  # adapter options for the real data
scale = 0.02  # synthetic only: fraction of the paper's 28,000 images to generate
image_size = 32  # side of the network input (the paper: 224)
transforms = ["random_crop", "rotation"]  # rows besides "no augmentation" (the paper: all ten)
models = ["efficientnet_b0"]  # columns (the paper: vgg16, resnet50, efficientnet_b0)
losses = ["cross_entropy", "focal"]  # cross_entropy -> Table 2, focal -> Table 3
folds = 2  # stratified cross-validation folds (the paper: 5)
epochs = 1  # training epochs per fold (the paper: 30)
batch_size = 32  # the paper: 128
lr = 1e-3  # Adam learning rate (the paper fine-tunes ImageNet weights with 1e-4)
pretrained = False  # start from ImageNet weights (needs them in torchvision's cache)
top_k = 5  # how many transforms the method keeps (the paper: 5)
progress = False  # tqdm progress bars (interactive use)
seed = 0
device = "cpu"  # cpu / cuda / auto

# %%
import pandas as pd

from emo_lib import paper
from emo_lib import jeong2021 as jg
from emo_lib.report import Run, show_markdown
from emo_lib.train import FitConfig

run = Run.from_parameters("jeong2021_augmentation_sweep", globals())
se, images, labels = jg.load_se30k8(se30k8_dataset, se30k8_root, se30k8_options, scale=scale,
                                    image_size=image_size, seed=seed)
run.banner(se)
config = FitConfig(epochs=epochs, lr=lr, batch_size=batch_size)

# %% [markdown]
# ## Settings against the paper's

# %%
p = paper.paper_value("jeong2021.sweep_training")
run.table(paper.compare(
    {"image size": 224, "folds": p["folds"], "epochs": p["epochs"],
     "batch size": p["batch_size"], "learning rate": p["learning_rate"],
     "transforms (rows)": len(paper.paper_value("jeong2021.table3_focal")) - 1,
     "models": len(jg.PAPER_MODELS), "losses": len(jg.SWEEP_TABLES)},
    {"image size": image_size, "folds": folds, "epochs": epochs, "batch size": batch_size,
     "learning rate": lr, "transforms (rows)": len(transforms), "models": len(models),
     "losses": len(losses)}), "settings", precision=4)
weights = "; ".join(f"{m}: {jg.weights_source(m, pretrained)}" for m in models)
show_markdown(f"Initial weights: {weights} (`random`: trained from scratch, "
              "not the paper's ImageNet transfer learning).")

# %%
sweep = jg.run_sweep(images, labels, se.classes, transforms, models, losses, folds=folds,
                     config=config, seed=seed, device=str(run.device), pretrained=pretrained,
                     progress=progress)
run.table(sweep.drop(columns="confusion"), "sweep_folds", display=False)
run.glue("sweep_cells", int(len(sweep) // folds))
run.glue("sweep_cached_share", float(sweep["from_cache"].mean()))
run.glue("sweep_train_minutes", float(sweep.loc[~sweep["from_cache"], "seconds"].sum() / 60))
collapse = jg.prediction_collapse(sweep, ["transform", "model", "loss"], se.classes)
run.table(collapse, "prediction_collapse", display=False)
if jg.collapse_note(collapse):
    show_markdown(jg.collapse_note(collapse))

# %% [markdown]
# {glue:text}`sweep_cells` cells (transform x model x loss) were cross-validated; a share of
# {glue:text}`sweep_cached_share:.2f` of their folds came from the results cache (cells shared
# with other pages or earlier builds), the rest took {glue:text}`sweep_train_minutes:.1f`
# minutes to train.
#
# ## Macro F1 per transform

# %%
run.figure(jg.sweep_figure(sweep, "macro_f1"), "sweep_macro_f1")
run.figure(jg.sweep_figure(sweep, "accuracy"), "sweep_accuracy");

# %% [markdown]
# ## Tables 2 and 3 against the paper
#
# Laid out as the paper's tables: rows transforms, columns model x (accuracy, macro F1), each
# as the paper's value, this run's (mean over folds) and the difference. Only this run's
# transforms and models appear.

# %%
for loss, table, title in (("cross_entropy", "table2", "Table 2: cross entropy"),
                           ("focal", "table3", "Table 3: focal loss")):
    if loss in losses:
        show_markdown(f"**{title}**")
        run.table(jg.paper_table(sweep, table), jg.SWEEP_TABLES[loss])

# %% [markdown]
# ## The transforms the method keeps
#
# The paper keeps the five transforms with the highest EfficientNet-B0 F1 in Table 3. Its own
# table ties at the cut:

# %%
paper_top, paper_ties = jg.select_top_transforms(jg.paper_sweep("focal"), k=top_k)
show_markdown("\n".join(f"- {n}" for n in paper.paper_notes("jeong2021", "tie")))
paper_f1 = jg.paper_sweep("focal").query("model == 'efficientnet_b0'").set_index("transform")
show_markdown(
    f"From the paper's Table 3, the top {top_k} (ties broken by the catalogue order) are "
    f"{', '.join(paper_top)}; tied at the cut ({paper_f1.loc[paper_top[-1], 'macro_f1']:.3f}): "
    f"{', '.join(paper_ties) or 'none'}. The paper chose "
    f"{', '.join(paper.paper_value('jeong2021.selected_transforms'))}.")

# %%
if "efficientnet_b0" in models and "focal" in losses and transforms:
    run_top, run_ties = jg.select_top_transforms(sweep, k=top_k)
    f1 = jg.fold_means(jg.select(sweep, model="efficientnet_b0", loss="focal"),
                       ["transform"])["macro_f1"].drop(jg.NO_AUGMENTATION)
    ranking = pd.DataFrame({"this run F1": f1, "paper F1": paper_f1["macro_f1"].reindex(f1.index),
                            "kept (this run)": f1.index.isin(run_top),
                            "kept (paper)": f1.index.isin(paper.paper_value(
                                "jeong2021.selected_transforms"))}).sort_values(
        "this run F1", ascending=False)
    run.table(ranking, "ranking_efficientnet_b0_focal")
    note = (f" Only {len(f1)} transforms were tried, so all are kept." if len(f1) <= top_k
            else "")
    show_markdown(f"This run's top {top_k}: {', '.join(run_top)}; tied at the cut: "
                  f"{', '.join(run_ties) or 'none'}.{note} The balanced-augmentation page uses "
                  "its own `selected_transforms` parameter (default: the paper's five).")
    run.glue("run_top_transforms", ", ".join(run_top))
else:
    show_markdown("This run's grid lacks EfficientNet-B0 with focal loss (or any transform), "
                  "so it cannot rank the transforms.")

# %% [markdown]
# ## The paper's claims
#
# Each claim this page can test, judged on this run's numbers and, beside, on the paper's own
# tables (a claim its own numbers do not fully carry is worth knowing).

# %%
mine = jg.claim_verdicts(sweep=sweep).loc[["b0_beats_others", "focal_beats_ce"]]
own = jg.claim_verdicts(**jg.paper_results()).loc[mine.index]
verdicts = jg.with_paper_verdicts(mine, own)
run.table(verdicts, "claims")
show_markdown(jg.claim_lines(verdicts))
for key, row in verdicts.iterrows():
    run.glue(f"claim_{key}", row["verdict"])

# %%
run.finish();
