"""tecore.papers.itm: the ITM chapter's grid, tau, tie and seed-spread helpers."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from tecore.papers import itm as S  # noqa: E402
from tests._metric_props import blobs  # noqa: E402


def _pool():
    return {t: {f"m{i}": blobs(10 * t + i, 120, 12, 3, spread=0.2 + 0.15 * i) for i in range(4)} for t in (1, 2)}


def test_grid_tau_ties_and_spread():
    pool = _pool()
    kw = dict(n_iter=40, eval_every=20, batch_size=32)
    runs = S.run_grid(pool, {"a": {}, "b": {"adaptive": False}}, seeds=[0, 1], **kw)
    assert len(runs) == 2 * 2 * 2 * 4 * 2  # settings x seeds x targets x models x evaluations
    # processes do not change the table
    pd.testing.assert_frame_equal(runs, S.run_grid(pool, {"a": {}, "b": {"adaptive": False}}, seeds=[0, 1],
                                                   n_jobs=2, **kw))
    # truth = the class spread: better separated models must score higher, tau_w close to 1
    truth = pd.DataFrame([{"target": t, "model": f"m{i}", "truth": i} for t in (1, 2) for i in range(4)])
    tau = S.tau_grid(runs, truth)
    assert set(tau.columns) == {"setting", "iteration", "tau", "tau_seed_sd", "n_targets"}
    assert (tau.n_targets == 2).all() and tau.tau.min() > 0.5
    ties = S.tie_rate(runs, score="log_likelihood")
    assert (ties.tied == 0).all() and (ties.pairs == 2 * 2 * 6).all()
    sp = S.seed_spread(runs[runs.iteration == 40])
    assert (sp["std"] >= 0).all() and (sp["gap"] > 0).all()
    with pytest.raises(ValueError, match="ground truth"):
        S.tau_grid(runs, truth.assign(model="x"))


def test_run_grids_trains_each_distinct_run_once_with_the_same_histories():
    pool = _pool()
    common = dict(eval_every=20, batch_size=32)
    requests = {
        # the full method of Table 2 = the defaults; 60 iterations
        "table2": {"settings": {"yes/yes": {"standardize": True, "adaptive": True}, "no/no": {"standardize": False,
                                                                                              "adaptive": False}},
                   "seeds": [0], "n_iter": 60},
        "onehot": {"settings": {"onehot": {}}, "seeds": [0, 1], "n_iter": 40},  # seed 0: the yes/yes run
        "centres": {"settings": {"onehot": {"centers": "onehot"}, "random": {"centers": "random"}}, "seeds": [0],
                    "n_iter": 40},
        "odd": {"settings": {"onehot": {}}, "seeds": [0], "n_iter": 30},  # not on the evaluation grid: its own run
    }
    got = S.run_grids(pool, requests, **common)
    # distinct runs: yes/yes(=onehot s0), no/no, onehot s1, random s0, the 30-iteration run; 8 models each
    assert got["table2"].attrs["runs"] == {"requested": 7 * 8, "trained": 5 * 8}
    # every request's frame is what its own run_grid gives, rows and values
    for name, req in requests.items():
        alone = S.run_grid(pool, req["settings"], seeds=req["seeds"], n_iter=req["n_iter"], **common)
        pd.testing.assert_frame_equal(got[name].reset_index(drop=True), alone, check_like=True)
    assert sorted(got["odd"].iteration.unique()) == [20, 30]
    with pytest.raises(ValueError, match="unknown key"):
        S.run_grids(pool, {"x": {"settings": {"a": {}}, "n_iters": 40}})


def test_table2_layout_and_claims_on_the_printed_table():
    from tecore.papers import printed

    t = printed.load("itm_table2", tidy=False)
    claims = S.table2_claims(t)
    # the trends the paper's Sec. 4.4.2 states hold in its own Table 2
    assert claims.all(), claims
    # a recomputed table may stop at 500 iterations: same trends, same labels
    short = S.table2_claims(t[["100", "200", "500"]])
    assert short.all() and list(short.index) == list(claims.index)
    flipped = t.copy()
    flipped.loc[("yes", "yes"), "1000"] = flipped.loc[("yes", "no"), "1000"] - 0.01
    assert not S.table2_claims(flipped).iloc[1] and S.table2_claims(flipped[["100", "200", "500"]]).iloc[1]
    with pytest.raises(ValueError, match="500-iteration"):
        S.table2_claims(t[["100", "200"]])
    taus = pd.DataFrame([{"setting": f"{a}/{b}", "iteration": it, "tau": t.loc[(a, b), str(it)]}
                         for a, b in t.index for it in (100, 200, 500, 1000)])
    np.testing.assert_allclose(S.table2_layout(taus).to_numpy(), t.to_numpy())


def test_reduce_pool_keeps_the_geometry_of_the_leading_components():
    X, y = blobs(0, 50, 20, 2)
    out = S.reduce_pool({"t": {"m": (X, y)}}, 8)["t"]["m"][0]
    assert out.shape == (50, 8)
    np.testing.assert_allclose(out, S.reduce_pool({"t": {"m": (X, y)}}, 8)["t"]["m"][0])
    full = S.reduce_pool({"t": {"m": (X, y)}}, 100)["t"]["m"][0]  # min(N - 1, D) components: a rotation
    d0 = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.testing.assert_allclose(np.linalg.norm(full[:, None] - full[None], axis=-1), d0, atol=1e-9)


def test_side_by_side_scores_every_metric_and_itm_per_seed():
    models, targets = [f"m{i}" for i in range(5)], ["a", "b"]
    truth = pd.DataFrame([{"target": t, "model": m, "truth": i / 10} for t in targets for i, m in enumerate(models)])
    # "good" ranks the models like the truth, "bad" in reverse; ITM agrees on seed 0, reversed on seed 1
    others = pd.DataFrame([{"target": t, "model": m, "metric": name, "score": s * i}
                           for name, s in (("good", 1), ("bad", -1)) for t in targets for i, m in enumerate(models)])
    runs = pd.DataFrame([{"seed": seed, "target": t, "model": m, "iteration": it,
                          "log_likelihood": (1 if seed == 0 else -1) * i + it}
                         for seed in (0, 1) for t in targets for i, m in enumerate(models) for it in (100, 500)])
    out = S.side_by_side(runs, others, {"ft": truth})
    assert out.loc[("ft", "good"), "tau"] == pytest.approx(1.0)
    assert out.loc[("ft", "bad"), "tau"] == pytest.approx(-1.0)
    itm = out.loc[("ft", "itm")]
    assert itm["seed_max"] == pytest.approx(1.0) and itm["seed_min"] == pytest.approx(-1.0)
    assert itm["tau"] == pytest.approx(0.0)
    named = S.side_by_side(runs, others, {"ft": truth}, label="itm (64 PCs)")
    assert named.loc[("ft", "itm (64 PCs)"), "tau"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="also a metric"):
        S.side_by_side(runs, others, {"ft": truth}, label="good")
