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
# # Medical: feature quality × feature update
#
# **Paper.** Juodelyte, Lu, Jiménez-Sánchez, Bottazzi, Ferrante, Cheplygina, *On dataset
# transferability in medical image classification*, arXiv 2412.20172
# {cite:p}`juodelyte2024medical`.
#
# **Claim.** Transferability metrics built for natural images rank medical source datasets
# poorly. A score that multiplies how well the pre-trained features already separate the
# target classes (*label prediction*, $S_{LP}$) by how much the early layers would have to
# change in fine-tuning (*feature update*, $S_{FU}$) ranks 14 source datasets best on 8 of 11
# MedMNIST targets (its Table 2), and is best on average when ranking 9 ImageNet
# architectures (Table 3), though there no method differs significantly from the others.
#
# **Method.** $S_{LP}$ embeds the target features with neighbourhood component analysis (50
# dimensions) and averages the 5-nearest-neighbour probability of the true class (eq. 2).
# $S_{FU}$ is the ratio of the gradient norms of the second and the first convolution after
# one backward pass of a triplet-margin loss on the penultimate features (eqs. 3-4):
#
# $$S_{FU}(\phi, \mathcal T) = \frac{\lVert\nabla_{\theta_{conv2}}\mathcal L\rVert_2}
#   {\lVert\nabla_{\theta_{conv1}}\mathcal L\rVert_2}.$$
#
# Both are min-max normalised over the candidate sources of a target (eq. 5) and multiplied
# (eq. 6): $S = \bar S_{LP}\,\bar S_{FU}$. For the cross-domain model experiment, the paper
# normalises in the inverted direction (eq. 8), $\bar S = (S - \max S)/(\min S - \max S)$, and
# scores PARC, NCTI, LEEP and NLEEP as $1 - S$. In tecore: `tecore.metrics.nca.lp`,
# `tecore.extract.gradient_ratio` and `tecore.metrics.nca.combine_lp_fu`.
#
# **What this chapter checks.** The authors published every per-source score of every
# method and the fine-tuned test AUCs (`DovileDo/transferability-in-medical-imaging`). From
# them tecore recomputes $\tau_w$ per target and method, the ranks and average ranks, and
# sets them next to the printed Tables 2 and 3; then the Friedman test, the AUC of every
# source ordered by source size (Fig. 4), the score-vs-AUC scatter grid (Fig. 5) and the
# LP/FU ablation (Fig. 6). It also re-derives the ground truth itself from the
# hyper-parameter sweep logs.

# %% tags=["parameters"]
# Everything a reader may change. papermill overrides these.
experiments = ["dataset", "model"]  # "dataset": 14 sources x ResNet-18 (Table 2); "model": 9 ImageNet CNNs (Table 3)
targets = None  # None = the 11 MedMNIST targets of the paper
methods = ["logme", "parc", "sfda", "ncti", "leep", "nleep", "lp_fu"]  # columns of Tables 2-3
convention = "paper"  # "paper": the authors' 1 - score and eq. 8 in the model experiment; "raw": raw scores
tau = "weighted_tau"  # scipy.stats.weightedtau, as the paper
alpha = 0.05  # significance level of the Friedman / Nemenyi tests
published_dir = None  # None: $TECORE_PUBLISHED_MIRROR, then download
tol = 0.01  # a recomputed cell "matches" the printed one within this
source = "published"  # "published": the authors' files only; "recompute": also Table 3 from features here
# recompute mode only (needs the weights and MedMNIST; GPU advised)
models = "medical9"  # the model experiment's zoo, or a list of zoo names (a user zoo file's models
#                     for the dataset experiment: tecore.zoo.load_registry_file)
fold = 1  # official subsample of Juodelyte et al. (100 x n_classes training images)
image_size = None  # None: each model's own input size; smaller is faster
finetune = False  # True: ground truth by the paper's protocol (tecore.finetune "medical") here
finetune_out = None  # folder of the fine-tuning results (resumable)
data_dir = None  # None: $TECORE_DATA_MIRROR, then the download cache
cache_dir = None  # None: $TECORE_CACHE
device = "cpu"

# %%
# Validate the parameters once: an unknown name fails here with the valid choices.
import os
import warnings

import pandas as pd

import tecore
from tecore import evaluate, params
from tecore.papers import check_choices, medical, plots, printed

params.check(alpha=alpha, tol=tol, targets=targets, published_dir=published_dir, models=models, fold=fold,
             image_size=image_size, finetune=finetune, finetune_out=finetune_out, device=device,
             data_dir=data_dir, cache_dir=cache_dir)  # one-line errors naming the parameter
warnings.filterwarnings("ignore", category=evaluate.ConstantInputWarning)
experiments = check_choices(experiments, ["dataset", "model"], "experiment")
targets = check_choices(targets, list(medical.TARGETS), "target")
methods = check_choices(methods, list(medical.METHODS), "method")
convention = check_choices(convention, ["paper", "raw"], "convention")[0]
tau = check_choices(tau, ["weighted_tau", "weighted_tau_itm", "kendall_tau"], "tau")[0]
source = check_choices(source, ["published", "recompute"], "source")[0]
if source == "recompute":
    from tecore import experiment

    models = experiment.resolve_models(models)  # ValueError naming the valid models if unknown
if published_dir is not None:
    os.environ["TECORE_PUBLISHED_MIRROR"] = str(published_dir)
pd.set_option("display.width", 160)
TABLE = {"dataset": "medical_table2", "model": "medical_table3"}

# %% [markdown]
# ## What this chapter reproduces
#
# Every table and figure of the paper and its status here (`tecore.papers.inventory`; the
# match counts are computed now from the published files, by the same functions the
# sections below call):

# %%
from tecore.papers import display, inventory

display.table(inventory.table("medical"), index=False)

# %% [markdown]
# ## The ground truth, re-derived
#
# The published AUC tables are the test AUC of the sweep run with the lowest validation loss
# for each (source, target). Recomputing that selection from the sweep logs
# (`finetuned_AUCs/`, one row per fine-tuning run) must give the same numbers.

# %%
# NBVAL_CHECK_OUTPUT
rederived = []
for exp in experiments:
    pub = medical.auc(exp)
    again = medical.truth_from_sweeps(exp)
    both = pub.merge(again, on=["target", "model"], suffixes=("_published", "_rederived"))
    rederived.append({"experiment": exp, "cells": len(pub),
                      "identical": int((both["truth_published"] - both["truth_rederived"]).abs().lt(1e-12).sum())})
rederived = pd.DataFrame(rederived).set_index("experiment")
display.table(rederived, caption="published AUC cells re-derived identically from the sweep logs")

# %% tags=["remove-cell"]
for exp in experiments:
    display.glue(f"medical_rederived_{exp}", int(rederived.loc[exp, "identical"]), fmt="d")
    display.glue(f"medical_cells_{exp}", int(rederived.loc[exp, "cells"]), fmt="d")

# %% [markdown]
# ## Printed → recomputed: τw per target (Tables 2 and 3)
#
# For each experiment: the printed table, tecore's recomputation from the published scores,
# their difference, and the number of cells within 0.01. The printed tables have two
# decimals, so a difference up to 0.005 is rounding.

# %%
recomputed, comparisons = {}, {}
for exp in experiments:
    table = medical.tau_table(exp, convention=convention, tau=tau)
    recomputed[exp] = table.loc[targets, methods]
    shown = printed.get(TABLE[exp]).frame.loc[targets, methods]
    comparisons[exp] = printed.compare(shown, recomputed[exp], tol=tol)

# %%
# NBVAL_CHECK_OUTPUT
for exp in experiments:
    cells, n_match, n_total = comparisons[exp]
    bad = cells.set_index(list(cells.columns[:2]))["match"].unstack().reindex(index=targets, columns=methods)
    display.show(recomputed[exp], highlight=(bad == False).to_numpy(),  # noqa: E712 (NaN = not compared)
                 caption=f"{printed.get(TABLE[exp]).table} ({exp} transferability), recomputed: "
                         f"{n_match}/{n_total} cells within {tol} of the printed value (others highlighted)")

# %% [markdown]
# Cell by cell (printed, recomputed, difference; `match` within 0.01):

# %%
for exp in experiments:
    table, _, _ = comparisons[exp]
    display.show(table, highlight="match", index=False,
                 caption=f"{printed.get(TABLE[exp]).table}: {printed.get(TABLE[exp]).citation}")

# %% [markdown]
# ## Ranks and average ranks
#
# Methods are ranked per target by $\tau_w$ (1 = best); an undefined $\tau_w$ — SFDA gives
# every source the score 1.0 on the binary targets — is ranked last, as in the paper. The
# authors' rank files (`ktau_*_rank.csv`) are the third column set.

# %%
# NBVAL_CHECK_OUTPUT
for exp in experiments:
    ranks = medical.rank_methods(recomputed[exp])
    shown = printed.get(TABLE[exp] + "_ranks").frame.loc[targets + ["average"], methods]
    files = medical.rank_file(exp).loc[targets, methods]
    agree_print = int((ranks.loc[targets] == shown.loc[targets]).to_numpy().sum())
    agree_file = int((ranks.loc[targets] == files).to_numpy().sum())
    avg_ranks = pd.DataFrame({"printed avg rank": shown.loc["average"],
                              "recomputed avg rank": ranks.loc["average"]}).T
    display.show(avg_ranks, precision=2,
                 caption=f"{exp}: recomputed ranks equal the printed ones in {agree_print}/"
                         f"{ranks.loc[targets].size} cells and the published rank file in "
                         f"{agree_file}/{files.size}")

# %% [markdown]
# Are the printed average ranks the means of the printed per-target ranks? For each table
# (`tecore.papers.printed.check_averages`; a difference beyond the rounding step 0.005 is
# highlighted):

# %%
inconsistent = {}
for exp in experiments:
    avg = printed.check_averages(TABLE[exp] + "_ranks")
    off = avg["difference"].abs() > 0.005 + 1e-9
    inconsistent[exp] = ", ".join(f"{m} (printed {avg.loc[m, 'printed']:.2f}, mean of its ranks "
                                  f"{avg.loc[m, 'mean_of_cells']:.2f})" for m in avg.index[off]) or "none"
    display.show(avg.T, precision=2, highlight=[list(off)] * 3,
                 caption=f"{printed.get(TABLE[exp]).table}: printed average rank vs. "
                         f"mean of the printed per-target ranks")
    display.glue(f"medical_avg_inconsistent_{exp}", inconsistent[exp])

# %% [markdown]
# ## Is the difference significant? Friedman test and critical difference
#
# The paper reports a Friedman p-value of 0.002 for the dataset experiment with a critical
# difference of 2.792 (11 targets, 7 methods), and no significant difference in the model
# experiment. tecore ranks undefined cells last by giving them the lowest value.

# %%
# NBVAL_CHECK_OUTPUT
results = {}
for exp in experiments:
    filled = recomputed[exp].fillna(-2.0)  # undefined tau_w ranks last
    results[exp] = evaluate.friedman(filled, alpha=alpha)
friedman = pd.DataFrame([{"experiment": e, "chi2": r.statistic, "p": r.pvalue, "CD": r.cd, "targets": r.n_blocks,
                          "methods": r.n_methods} for e, r in results.items()]).set_index("experiment")
display.table(friedman, precision=4, caption="Friedman test over targets and Nemenyi critical difference")

# %%
for exp in experiments:
    display.glue(f"medical_fig_cd_{exp}",
                 plots.cd_diagram(results[exp], title=f"{exp} transferability: average rank (Nemenyi, α={alpha})"))

# %% [markdown]
# ```{glue:figure} medical_fig_cd_dataset
# :name: fig-medical-cd-dataset
#
# Average rank of the methods over the targets, dataset transferability; methods joined by a bar are within the Nemenyi critical difference.
# ```
#
# ```{glue:figure} medical_fig_cd_model
# :name: fig-medical-cd-model
#
# Average rank of the methods over the targets, model transferability; methods joined by a bar are within the Nemenyi critical difference.
# ```

# %% tags=["remove-cell"]
if "dataset" in results:
    display.glue("medical_friedman_p", results["dataset"].pvalue, fmt=".4f")
    display.glue("medical_cd", results["dataset"].cd, fmt=".3f")
    # the studentized-range value behind a CD: CD = q * sqrt(k (k + 1) / (6 N)) (Demšar 2006)
    r = results["dataset"]
    scale = (r.n_methods * (r.n_methods + 1) / (6 * r.n_blocks)) ** 0.5
    display.glue("medical_q", r.cd / scale, fmt=".3f")
    display.glue("medical_q_printed", 2.792 / scale, fmt=".2f")  # 2.792: the CD printed by Juodelyte et al. (text under Table 2)

# %% [markdown]
# ## Test AUC of every source on every target (Fig. 4)
#
# The paper's Fig. 4 shows the fine-tuned test AUC of each source dataset on each target,
# sources sorted by size, smallest first. The published AUC table gives the values; the
# sizes (training images) come from `tecore.papers.medical.source_sizes` (MedMNIST's own
# split sizes; ImageNet and RadImageNet as cited there; leave-target-out MedMNIST at its
# largest, all 12 training splits). The best source of each target is highlighted.

# %%
if "dataset" in experiments:
    sizes = medical.source_sizes()
    fig4, size_stats = medical.fig4(targets)
    auc_wide = fig4.drop(columns="train_images")
    best = (auc_wide == auc_wide.max()).to_numpy()
    display.show(fig4, highlight=[[False, *row] for row in best],
                 caption="the paper's Fig. 4: test AUC after fine-tuning ResNet-18 from each source (rows, "
                         "smallest training set first) on each target")
    # the paper's example (Juodelyte et al., text on Fig. 4): Breast, 546 training images, against OrganS
    display.glue("medical_breast_size", int(sizes["breastmnist"]), fmt=",d")
    display.glue("medical_organs_size", int(sizes["organsmnist"]), fmt=",d")
    display.glue("medical_breast_wins", size_stats["breast_wins"], fmt="d")
    display.glue("medical_breast_n", size_stats["breast_n"], fmt="d")
    display.glue("medical_size_rho", size_stats["rho"], fmt=".2f")
    display.glue("medical_size_rho_single", size_stats["rho_single"], fmt=".2f")
    display.glue("medical_n_sources", size_stats["n_sources"], fmt="d")
    display.glue("medical_n_single", size_stats["n_single"], fmt="d")

# %% [markdown]
# Breast ({glue:md}`medical_breast_size` training images) beats OrganS
# ({glue:md}`medical_organs_size`) on {glue:md}`medical_breast_wins` of the
# {glue:md}`medical_breast_n` other targets (the paper: 7 of 9). The paper concludes that
# size alone does not predict transfer performance. Spearman's $\rho$ between a source's
# size and its mean AUC over the targets is {glue:md}`medical_size_rho` over all
# {glue:md}`medical_n_sources` sources (the three largest, leave-target-out MedMNIST,
# ImageNet and RadImageNet, are also the most diverse) and {glue:md}`medical_size_rho_single`
# over the {glue:md}`medical_n_single` single MedMNIST sources.

# %% [markdown]
# ## Scores against ground truth (Fig. 5)
#
# Each panel plots a method's scores of the candidate sources against their fine-tuned test
# AUC for one target; a method that ranks well puts the points on a rising line.

# %%
for exp in experiments:
    scores = medical.method_scores(exp, convention=convention)
    scores = scores[scores.metric.isin(methods) & scores.target.isin(targets)]
    display.glue(f"medical_fig_scatter_{exp}", plots.score_vs_truth_grid(
        scores, medical.auc(exp), row="target", label_points=False, ylabel="test AUC"))

# %% [markdown]
# ```{glue:figure} medical_fig_scatter_dataset
# :name: fig-medical-scatter-dataset
#
# The paper's Fig. 5, dataset transferability: each method's score of a source (x) against its fine-tuned test AUC (y), one row per target.
# ```
#
# ```{glue:figure} medical_fig_scatter_model
# :name: fig-medical-scatter-model
#
# The paper's Fig. 5, model transferability: each method's score of a source (x) against its fine-tuned test AUC (y), one row per target.
# ```

# %% [markdown]
# ## Ablation: label prediction alone, feature update alone, and their product (Fig. 6)

# %%
# NBVAL_CHECK_OUTPUT
ablation = {}
for exp in experiments:
    parts = medical.tau_table(exp, convention=convention, tau=tau, components=True)
    ablation[exp] = parts.loc[targets, ["lp", "fu", "lp_fu"]]
    display.show(ablation[exp], caption=f"{exp} transferability: τw of S_LP, S_FU and S_LP × S_FU per target")

# %%
for exp in experiments:
    display.glue(f"medical_fig_ablation_{exp}",
                 plots.tau_heatmap(ablation[exp].T, title=f"{exp}: S_LP, S_FU and S_LP x S_FU", mean_column=True))

# %% [markdown]
# ```{glue:figure} medical_fig_ablation_dataset
# :name: fig-medical-ablation-dataset
#
# The paper's Fig. 6, dataset transferability: τw of S_LP, S_FU and their product per target, with the mean.
# ```
#
# ```{glue:figure} medical_fig_ablation_model
# :name: fig-medical-ablation-model
#
# The paper's Fig. 6, model transferability: τw of S_LP, S_FU and their product per target, with the mean.
# ```

# %% [markdown]
# ## Recomputing Table 3 from features (`source="recompute"`)
#
# The model experiment from this machine's features: the `medical9` ImageNet CNNs on the
# targets' official fold, the paper's methods in the paper's convention, ranked against the
# published AUCs (or, with `finetune=True`, against the paper's fine-tuning protocol run
# here). The dataset experiment (Table 2) needs the authors' MedMNIST-pretrained ResNet-18s,
# which are not published: register your own as a zoo file and pass their names as `models`.

# %%
if source == "recompute":
    from tecore.papers import recompute

    result = recompute.medical(targets, models=models, methods=methods, fold=fold, image_size=image_size,
                               convention=convention, finetune=finetune, finetune_out=finetune_out, tau=tau,
                               data_dir=data_dir, cache_dir=cache_dir, device=device)
    shown = printed.load(TABLE["model"], tidy=False)
    cells = recompute.report(result, shown.loc[[t for t in shown.index if t in result.table.columns]].T
                             if set(result.table.columns) & set(shown.index) else None, tol=tol)
    display.show(result.table.T, caption="Table 3 recomputed on this machine's features")

# %% [markdown]
# ## What agrees and what does not
#
# * The ground truth re-derived from the sweep logs equals the published AUC tables in
#   {glue:md}`medical_rederived_dataset` of {glue:md}`medical_cells_dataset` dataset-level
#   cells and {glue:md}`medical_rederived_model` of {glue:md}`medical_cells_model` model-level
#   cells (the `resnet` row of the model table is the dataset experiment's ImageNet
#   ResNet-18; there is no `resnet` in the `_imnet` sweeps).
# * tecore's Friedman test gives p = {glue:md}`medical_friedman_p` for the dataset experiment
#   (printed: 0.002), and a critical difference of {glue:md}`medical_cd` (printed 2.792): tecore uses the Nemenyi
#   studentized-range value q(0.05, 7) = {glue:md}`medical_q` (Demšar 2006); the paper's figure would
#   need q = {glue:md}`medical_q_printed`.
# * In the dataset experiment the recomputed $\tau_w$ are the printed ones up to rounding,
#   which confirms both the published scores and tecore's $\tau_w$ (scipy's weighted Kendall
#   tau). Printed average ranks that are not the means of the printed per-target ranks:
#   in the dataset table {glue:md}`medical_avg_inconsistent_dataset`; in the model table
#   {glue:md}`medical_avg_inconsistent_model`.
# * The model experiment depends on the conventions above (``1 - score`` and eq. 8); with
#   ``convention="raw"`` the signs of most columns flip. The authors' model-level rank file
#   disagrees with their own scores on two targets (dermamnist, tissuemnist) — see
#   ``../shared/published/README.md``.
