"""Persona effects beyond paraphrase noise (Araujo & Roth's tests): the statistics against scipy, statsmodels
and the textbook formulas on fixed data, and on synthetic answers where the personas do or do not move them."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q

from silicon_sample.comparison.persona_effects import (
    ALL_PERSONAS,
    cochran_q,
    friedman,
    kendall_w,
    persona_effects,
    spread_ratio,
)
from silicon_sample.errors import SpecError

ITEMS = [f"i{k}" for k in range(1, 7)]


def synthetic(seed: int, persona_sd: float, *, categories=("a", "b", "c", "d"), per_category: int = 10,
              controls: int = 30, models=("m1",), refusing: dict | None = None, noise: float = 1.0,
              shared: bool = True):
    """wide, long and scale items of a synthetic catalogue run: each regular persona shifts every item by its
    own effect (SD ``persona_sd``, the same in every model when ``shared``), controls shift nothing, and each
    answer has its own noise; ``refusing`` maps a category to its refusal probability (others 0.02)."""
    rng = np.random.default_rng(seed)
    people = ([(f"{c}{k}", c, "persona") for c in categories for k in range(per_category)]
              + [(f"ctl{k}", "control", "control") for k in range(controls)] + [("empty", "empty", "empty")])
    effects = {p: (rng.normal(0, persona_sd) if group == "persona" else 0.0) for p, _, group in people}
    wide_rows, long_rows = [], []
    for model in models:
        own = effects if shared else {p: (rng.normal(0, persona_sd) if g == "persona" else 0.0) for p, _, g in people}
        for persona_id, category, group in people:
            answers = {i: float(np.clip(np.round(3 + own[persona_id] + rng.normal(0, noise)), 1, 5)) for i in ITEMS}
            wide_rows.append({"persona_id": persona_id, "category": category, "persona_group": group,
                              "model": model, "replicate": 1, **answers, "s": np.mean(list(answers.values()))})
            p_refuse = (refusing or {}).get(category, 0.02)
            for item in ITEMS:
                long_rows.append({"persona_id": persona_id, "category": category, "persona_group": group,
                                  "model": model, "instrument": "inst", "item_id": item, "replicate": 1,
                                  "status": "refused" if rng.random() < p_refuse else "answered"})
    wide = pd.DataFrame(wide_rows)
    return wide, pd.DataFrame(long_rows), {"s": wide[ITEMS]}


def effects(seed, persona_sd, bootstrap=1000, **kwargs):
    wide, long, items = synthetic(seed, persona_sd, **kwargs)
    return persona_effects(wide, long, scale_items=items, scales=["s"], pair_columns=["model"], seed=seed,
                           bootstrap=bootstrap)


# -- the statistics equal the reference implementations ------------------------------------------------
def test_friedman_equals_scipy_and_leaves_out_incomplete_blocks():
    # Hollander & Wolfe's round-out times (blocks = players, treatments = methods), one block missing a value.
    data = pd.DataFrame({"round": [5.40, 5.85, 5.20, 5.55, 5.90, 5.45, 5.40, 5.45, 5.25, np.nan],
                         "narrow": [5.50, 5.70, 5.60, 5.50, 5.85, 5.55, 5.40, 5.50, 5.15, 5.80],
                         "wide": [5.55, 5.75, 5.50, 5.40, 5.70, 5.60, 5.35, 5.35, 5.00, 5.70]})
    ours = friedman(data)
    reference = stats.friedmanchisquare(*data.dropna().to_numpy().T)
    assert ours["statistic"] == pytest.approx(reference.statistic, rel=1e-12)
    assert ours["p_value"] == pytest.approx(reference.pvalue, rel=1e-12)
    assert (ours["n_blocks"], ours["blocks_left_out"], ours["df"]) == (9, 1, 2)


def test_cochran_q_equals_statsmodels_and_the_formula():
    x = pd.DataFrame(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1], [1, 0, 1], [1, 1, 0],
                               [0, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0]]))
    ours = cochran_q(x)
    statistic, p_value, df = sm_cochrans_q(x.to_numpy())
    assert ours["statistic"] == pytest.approx(statistic, rel=1e-12)
    assert ours["p_value"] == pytest.approx(p_value, rel=1e-12) and ours["df"] == df == 2
    k, column, row = x.shape[1], x.sum(axis=0).to_numpy(), x.sum(axis=1).to_numpy()
    total = row.sum()
    q = (k - 1) * (k * np.sum(column ** 2) - total ** 2) / (k * total - np.sum(row ** 2))     # Cochran (1950)
    assert ours["statistic"] == pytest.approx(q, rel=1e-12)
    assert np.isnan(cochran_q(pd.DataFrame(np.zeros((5, 3))))["statistic"])                # no refusal at all


def test_kendall_w_equals_the_tie_corrected_textbook_formula():
    ratings = pd.DataFrame({"r1": [1, 2, 3, 4, 5, 6, 7], "r2": [2, 1, 4, 3, 6, 5, 7],
                            "r3": [1, 3, 2, 5, 4, 7, 6], "r4": [3, 3, 1, 4, 6, 6, 5]})      # r4 has ties
    ours = kendall_w(ratings)
    ranks = ratings.rank(axis=0).to_numpy()
    n, m = ranks.shape
    s = np.sum((ranks.sum(axis=1) - m * (n + 1) / 2) ** 2)
    ties = sum(np.sum(counts ** 3 - counts) for counts in
               (np.unique(ratings[c], return_counts=True)[1] for c in ratings))
    w = 12 * s / (m ** 2 * (n ** 3 - n) - m * ties)           # Kendall & Babington Smith (1939), with ties
    assert ours["w"] == pytest.approx(w, rel=1e-12)
    assert ours["chi2"] == pytest.approx(m * (n - 1) * w, rel=1e-12)
    assert ours["p_value"] == pytest.approx(stats.chi2.sf(m * (n - 1) * w, n - 1), rel=1e-10)
    assert kendall_w(pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1]}))["w"] == pytest.approx(0.0)


def test_agreement_equals_scipy_kendall_tau_and_w_across_three_models():
    tables = effects(3, 1.0, models=("m1", "m2", "m3"), bootstrap=200)
    agreement = tables["agreement"].query("outcome == 's'").set_index("pairs")
    values = tables["personas"].query("outcome == 's' and persona_group == 'persona'").pivot(
        index="persona_id", columns="model", values="value")
    tau = stats.kendalltau(values["m1"], values["m2"])
    row = agreement.loc["m1 vs m2"]
    assert row["value"] == pytest.approx(tau.statistic, rel=1e-12)
    assert row["p_value"] == pytest.approx(tau.pvalue, rel=1e-12) and row["n_personas"] == 40
    assert row["ci_low"] < row["value"] < row["ci_high"]
    w = agreement.loc["m1, m2, m3"]
    assert w["statistic"] == "Kendall W" and w["value"] == pytest.approx(kendall_w(values)["w"], rel=1e-12)
    assert w["value"] > 0.5                      # the personas' effects are shared by the three models


# -- on synthetic answers -------------------------------------------------------------------------------
def test_personas_that_move_answers_give_a_ratio_whose_interval_excludes_one():
    variation = effects(1, 1.0)["variation"].query("outcome == 's'").set_index("category")
    overall = variation.loc[ALL_PERSONAS]
    assert overall["ratio"] > 1.5 and overall["ci_low"] > 1 and bool(overall["beyond_noise"])
    assert overall["n_personas"] == 40 and overall["n_controls"] == 30
    assert variation.loc[["a", "b", "c", "d"], "n_personas"].eq(10).all()
    tests = effects(1, 1.0)["within_tests"].query("outcome == 's'").set_index("group")
    assert tests.loc["personas", "p_value"] < 0.001 and tests.loc["personas", "n_treatments"] == 40
    assert tests.loc["controls", "p_value"] > 0.01 and tests.loc["controls", "n_blocks"] == len(ITEMS)


def test_where_neither_moves_answers_the_interval_covers_one():
    overall = effects(2, 0.0)["variation"].query("outcome == 's'").set_index("category").loc[ALL_PERSONAS]
    assert overall["ci_low"] < 1 < overall["ci_high"] and not overall["beyond_noise"]
    covered = 0
    for seed in range(40):                       # and it does so about 95 % of the time
        wide, long, items = synthetic(100 + seed, 0.0)
        personas = wide[wide["persona_group"] == "persona"]["s"].to_numpy()
        controls = wide[wide["persona_group"] == "control"]["s"].to_numpy()
        result = spread_ratio(personas, controls, np.random.default_rng(seed), 500)
        covered += result["ci_low"] <= 1 <= result["ci_high"]
    assert covered >= 34                        # 40 × 0.95 = 38; binomial 1 % lower tail is 34


def test_a_category_that_refuses_more_than_the_controls_is_flagged_after_holm():
    refusals = effects(4, 0.5, refusing={"c": 0.5})["refusals"].query("outcome == 'refused'").set_index("category")
    assert refusals.loc["c", "rate"] > 0.35 and refusals.loc["c", "p_holm"] < 0.01
    assert refusals.loc["c", "diff_ci_low"] > 0.2
    others = refusals.drop(index=["c"])
    assert (others["p_holm"] > 0.05).all() and (others["p_holm"] >= others["p_value"]).all()
    assert refusals.loc["c", "cells"] == 10 * len(ITEMS) and refusals.loc["c", "n_personas"] == 10
    tests = effects(4, 0.5, refusing={"c": 0.5})["within_tests"].query("outcome == 'refused'").set_index("group")
    assert tests.loc["personas", "test"] == "Cochran Q" and tests.loc["personas", "p_value"] < 0.001


def test_each_persona_and_category_sits_beside_the_controls_and_the_empty_persona():
    tables = effects(5, 1.0)
    personas = tables["personas"].query("outcome == 's'")
    assert len(personas) == 40 + 30 + 1 and personas["interval"].str.contains("keyed items").all()
    assert (personas["ci_low"] <= personas["value"]).all() and (personas["value"] <= personas["ci_high"]).all()
    categories = tables["categories"].query("outcome == 's'").set_index("category")
    assert set(categories.index) == {"a", "b", "c", "d", "control", "empty"}
    controls = personas.loc[personas["persona_group"] == "control", "value"]
    assert categories["controls_mean"].eq(controls.mean()).all()
    assert categories.loc["empty", "n_personas"] == 1 and np.isnan(categories.loc["empty", "ci_low"])
    rates = tables["personas"].query("outcome == 'refused'")
    assert rates["n"].eq(len(ITEMS)).all() and rates["interval"].eq("Wilson over the persona's cells").all()


def test_personas_at_the_extremes_for_every_model_and_ties_count_against_them():
    tables = effects(6, 0.7, models=("m1", "m2"), noise=0.3)
    extremes = tables["extremes"]
    values = tables["personas"].query("outcome == 's' and persona_group == 'persona'").pivot(
        index="persona_id", columns="model", values="value")
    top = extremes.query("outcome == 's' and position == 'top'")
    assert len(top) >= 1 and top["k"].eq(4).all()
    for persona_id in top["persona_id"]:
        assert (values.rank(ascending=False, method="max").loc[persona_id] <= 4).all()
    wide, long, items = synthetic(6, 0.0, models=("m1", "m2"))
    wide["i1"] = np.where(wide["persona_id"].str.endswith(("0", "1", "2", "3", "4")), 3.0, 2.0)   # half tie at top
    tied = persona_effects(wide, long, scale_items=items, outcomes=["i1"], pair_columns=["model"], bootstrap=100)
    assert tied["extremes"].empty


def test_a_run_without_control_personas_is_refused():
    wide, long, items = synthetic(7, 1.0)
    keep = wide["persona_group"] != "control"
    with pytest.raises(SpecError, match="no control personas"):
        persona_effects(wide[keep], long[long["persona_group"] != "control"], scale_items=items, scales=["s"])
    with pytest.raises(SpecError, match="no persona groups"):
        persona_effects(wide.drop(columns="persona_group"), long, scale_items=items, scales=["s"])
    with pytest.raises(SpecError, match="outcome 'nope' is not in the run"):
        persona_effects(wide, long, scale_items=items, outcomes=["nope"])
