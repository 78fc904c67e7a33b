"""Calibration with a small human sample (issue 29): PPI++ on simulated data with known truth, equality with
ppi_py called directly, the twin design's validation, the budget plan, and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import ppi_py
import pytest

from silicon_sample.comparison import budget, calibration, twins
from silicon_sample.comparison.calibration import Target
from silicon_sample.errors import SpecError
from silicon_sample.tidy.results import PAIR_COLUMNS


def _population(rho: float, size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Human answers Y ~ N(3, 1) and predictions of correlation ``rho`` with them (unrelated when 0)."""
    y = rng.normal(size=size)
    yhat = rho * y + np.sqrt(1 - rho ** 2) * rng.normal(size=size)
    return 3 + y, 2 + yhat            # the predictions at another level: PPI corrects the bias


def test_estimates_equal_ppi_py_called_directly():
    rng = np.random.default_rng(1)
    y, yhat = _population(0.6, 600, rng)
    w = rng.uniform(0.5, 2.0, 600)
    n = 80
    row = calibration.mean_estimate(y[:n], yhat[:n], yhat[n:], w[:n], w[n:])
    low, high = ppi_py.ppi_mean_ci(y[:n], yhat[:n], yhat[n:], alpha=0.05, w=w[:n], w_unlabeled=w[n:])
    assert (row["low"], row["high"]) == pytest.approx((low[0], high[0]), abs=1e-12)
    # the λ we report is the one ppi_py tuned: the interval at that λ is the same
    at_lambda = ppi_py.ppi_mean_ci(y[:n], yhat[:n], yhat[n:], alpha=0.05, lam=row["lambda"], w=w[:n],
                                   w_unlabeled=w[n:])
    assert (row["low"], row["high"]) == pytest.approx((at_lambda[0][0], at_lambda[1][0]), abs=1e-12)
    classical = ppi_py.classical_mean_ci(y[:n], w=w[:n], alpha=0.05)
    assert (row["classical_low"], row["classical_high"]) == pytest.approx(classical, abs=1e-12)
    # ρ is the correlation ppi_py's power analysis uses
    power = ppi_py.ppi_mean_power(y[:n], yhat[:n], cost_Y=1.0, cost_Yhat=0.1, budget=100.0, w=w[:n])
    assert row["rho"] == pytest.approx(power["ppi_corr"], abs=1e-12)

    median = calibration.median_estimate(np.round(y[:n] * 10), np.round(yhat[:n] * 10), np.round(yhat[n:] * 10))
    low, high = ppi_py.ppi_quantile_ci(np.round(y[:n] * 10), np.round(yhat[:n] * 10), np.round(yhat[n:] * 10), 0.5,
                                       alpha=0.05)
    assert (median["low"], median["high"]) == (low, high)

    group = (rng.uniform(size=600) < 0.4).astype(float)
    difference = calibration.difference_estimate(y[:n], yhat[:n], group[:n], yhat[n:], group[n:], w[:n], w[n:])
    x, x_u = np.column_stack([np.ones(n), group[:n]]), np.column_stack([np.ones(600 - n), group[n:]])
    low, high = ppi_py.ppi_ols_ci(x, y[:n], yhat[:n], x_u, yhat[n:], alpha=0.05, coord=1, w=w[:n],
                                  w_unlabeled=w[n:])
    assert (difference["low"], difference["high"]) == pytest.approx((low[1], high[1]), abs=1e-12)
    classical_low, classical_high = ppi_py.ppi_ols_ci(x, y[:n], yhat[:n], x_u, yhat[n:], alpha=0.05, lam=0,
                                                      w=w[:n], w_unlabeled=w[n:])
    assert difference["classical_low"] == pytest.approx(classical_low[1], abs=1e-12)
    hc0_low, hc0_high = ppi_py.classical_ols_ci(x, y[:n], w=w[:n], alpha=0.05)      # HC0: divisor n, not n − 1
    assert (difference["classical_high"] - difference["classical_low"]) / (hc0_high[1] - hc0_low[1]) == \
        pytest.approx(np.sqrt(n / (n - 1)), rel=1e-6)


@pytest.mark.parametrize("rho", [0.8, 0.0])
def test_coverage_and_effective_n_on_known_truth(rho):
    """Predictions with correlation 0.8 with the answers, and predictions unrelated to them: the PPI++ interval
    covers the true mean at the nominal rate within Monte Carlo error, and the effective n is near
    n(n+N)/(n+(1−ρ²)N) for the first and near n for the second."""
    rng = np.random.default_rng(20261205)
    n, big_n, reps = 100, 900, 400
    covered, effective, width_ratio = [], [], []
    for _ in range(reps):
        y, yhat = _population(rho, n + big_n, rng)
        row = calibration.mean_estimate(y[:n], yhat[:n], yhat[n:])
        covered.append(row["low"] <= 3.0 <= row["high"])
        effective.append(row["effective_n"])
        width_ratio.append(row["width_ratio"])
    mc_error = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert abs(np.mean(covered) - 0.95) <= mc_error
    expected = n * (n + big_n) / (n + (1 - rho ** 2) * big_n)
    assert np.mean(effective) == pytest.approx(expected, rel=0.05)
    # the realized precision agrees: (classical width / PPI width)² · n ≈ the effective n
    assert n * np.mean(width_ratio) ** 2 == pytest.approx(expected, rel=0.1)
    if rho == 0:
        assert np.mean(effective) < n * 1.03


def test_difference_coverage_on_known_truth():
    rng = np.random.default_rng(3)
    n, big_n, reps, covered = 120, 600, 200, []
    for _ in range(reps):
        group = (rng.uniform(size=n + big_n) < 0.5).astype(float)
        y, yhat = _population(0.7, n + big_n, rng)
        y = y + 0.5 * group                                   # the true difference is 0.5
        yhat = yhat + 0.1 * group                             # the model sees a smaller one: PPI corrects it
        row = calibration.difference_estimate(y[:n], yhat[:n], group[:n], yhat[n:], group[n:])
        covered.append(row["low"] <= 0.5 <= row["high"])
    assert abs(np.mean(covered) - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / reps)


def _twin_world(rng, rho=0.7, respondents=3000, personas=400):
    """A population of humans with two answers, personas drawn from them, and predictions of known ρ."""
    y, yhat_all = _population(rho, respondents, rng)
    gender = np.where(rng.uniform(size=respondents) < 0.5, "female", "male")
    y = y + 0.4 * (gender == "female")
    humans = pd.DataFrame({"Q": y, "gender": gender, "weight": 1.0})
    rows = rng.choice(respondents, size=personas, replace=True)
    twins_frame = pd.DataFrame({"persona_id": [f"P{i}" for i in range(personas)], "source_row": rows,
                                "gender": gender[rows], "weight": 1.0, "Q": yhat_all[rows]})
    return humans, twins_frame


def test_validation_covers_the_population_value_and_is_not_flagged():
    rng = np.random.default_rng(11)
    humans, twin_frame = _twin_world(rng)
    targets = [Target("mean", "Q", "Q"),
               Target("difference", "Q", "Q", attribute="gender", category="female", reference="male")]
    checked = twins.validate_pair(twin_frame, humans, humans, 60, targets, 60, rng)
    summary = twins.validation_summary(checked, 60)
    assert not summary["flagged"]
    assert summary["coverage_ppi"] >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / 60)
    assert checked["width_ratio"].min() > 1.0                  # ρ = 0.7: PPI++ is narrower
    assert checked.loc[("mean", "Q")]["population_value"].iloc[0] == pytest.approx(humans["Q"].mean())


def test_a_pair_whose_intervals_cover_less_than_the_humans_is_flagged():
    frame = pd.DataFrame({"coverage_ppi": [0.70, 0.72], "coverage_classical": [0.95, 0.94],
                          "width_ratio": [1.5, 1.6]})
    assert twins.validation_summary(frame, 100)["flagged"]
    frame["coverage_ppi"] = [0.93, 0.95]
    assert not twins.validation_summary(frame, 100)["flagged"]


def test_gain_interval_and_labelled_draw():
    rng = np.random.default_rng(5)
    humans, twin_frame = _twin_world(rng, rho=0.8)
    pool = twins.twin_pool(twin_frame)
    chosen = twins.draw_labelled(pool, 80, rng)
    assert len(set(chosen)) == 80 and set(chosen) <= set(pool)
    gain = twins.pair_gain(*twins.split(twin_frame, humans, chosen), [Target("mean", "Q", "Q")], 200, rng)
    unlabelled = int((~twin_frame["source_row"].isin(chosen)).sum())
    expected = 80 * (80 + unlabelled) / (80 + (1 - 0.64) * unlabelled) - 80
    assert gain["gain_low"] < expected < gain["gain_high"]
    # unrelated predictions are worth about no humans
    humans0, twins0 = _twin_world(np.random.default_rng(6), rho=0.0)
    chosen0 = twins.draw_labelled(twins.twin_pool(twins0), 80, rng)
    gain0 = twins.pair_gain(*twins.split(twins0, humans0, chosen0), [Target("mean", "Q", "Q")], 200, rng)
    assert gain0["gain_low"] <= 0.5 and gain0["gain"] < 10


def test_plan_equals_ppi_py_power_analysis():
    rng = np.random.default_rng(2)
    y, yhat = _population(0.6, 200, rng)
    direct = ppi_py.ppi_mean_power(y, yhat, cost_Y=5.0, cost_Yhat=0.05, budget=2000.0)
    plan = budget.split_budget(direct["ppi_corr"], cost_human=5.0, cost_silicon=0.05, budget=2000.0)
    # ppi_py's split, its rounding trimmed so the plan never costs more than the budget
    assert plan["n_humans"] == direct["n"] and plan["n_silicon"] <= direct["N"]
    assert 2000.0 - 0.05 <= plan["cost"] <= 2000.0
    # a target width: the plan's expected width is the target, and it costs less than humans alone
    row = budget.plan_row(0.6, 1.0, cost_human=5.0, cost_silicon=0.05, target_width=0.2)
    assert row["width"] == pytest.approx(0.2, rel=0.01)
    assert row["cost"] < row["humans_only_cost"]
    # a model worth nothing: all humans
    none = budget.plan_row(0.0, 1.0, cost_human=5.0, cost_silicon=0.05, budget=1000.0)
    assert none["n_silicon"] == 0 and none["n_humans"] == 200 and none["cost"] == 1000.0


def test_bad_inputs_one_line_each():
    frame = pd.DataFrame({"persona_id": ["P1", "P2"], "weight": [1.0, 0.0]})
    with pytest.raises(SpecError, match="not positive") as caught:
        twins.check_weights(frame, "the run's personas")
    assert "\n" not in str(caught.value)
    with pytest.raises(SpecError, match="budget or a target width"):
        budget.plan_row(0.5, 1.0, cost_human=5.0, cost_silicon=0.1)
    with pytest.raises(SpecError, match="cost of a human"):
        budget.split_budget(0.5, cost_human=0.0, cost_silicon=0.1, budget=100.0)
    with pytest.raises(SpecError, match="target width must be above 0"):
        budget.plan_row(0.5, 1.0, cost_human=5.0, cost_silicon=0.1, target_width=-1.0)


def test_effective_n_is_what_the_interval_reached():
    """effective_n is n · (classical width / PPI width)², computed in closed form for the bootstrap; with answers
    that vary less than the humans' (λ clipped at 1) it stays below the formula's optimum at ρ."""
    rng = np.random.default_rng(8)
    y, yhat = _population(0.8, 500, rng)
    w = rng.uniform(0.5, 2.0, 500)
    row = calibration.mean_estimate(y[:80], yhat[:80], yhat[80:], w[:80], w[80:])
    fast, rho = calibration.mean_effective_n(y[:80], yhat[:80], yhat[80:], w[:80], w[80:])
    assert fast == pytest.approx(row["effective_n"], rel=1e-9) and rho == pytest.approx(row["rho"])
    compressed = calibration.mean_estimate(y[:80], 3 + 0.3 * (yhat[:80] - 2), 3 + 0.3 * (yhat[80:] - 2))
    assert compressed["lambda"] == 1.0
    assert compressed["effective_n"] < compressed["effective_n_optimal"] - 5


def test_a_pilot_is_matched_to_the_personas_of_each_respondent_s_profile():
    twin_frame = pd.DataFrame({"persona_id": ["P1", "P2", "P3", "P4"], "source_row": np.nan,
                               "gender": ["female", "female", "male", "male"],
                               "age": ["young", "young", "old", "young"],
                               "weight": 1.0, "Q": [2.0, 4.0, 5.0, 1.0]})
    pilot = pd.DataFrame({"respondent_id": ["R1", "R2", "R3"], "gender": ["female", "male", "female"],
                          "age": ["young", "old", "old"], "weight": 1.0, "Q": [3.0, 6.0, 2.0]})
    people, paired, silicon, unpaired = twins.profile_split(twin_frame, pilot, ["gender", "age"])
    assert list(people["respondent_id"]) == ["R1", "R2"] and unpaired == 1        # no persona is female and old
    assert list(paired["Q"]) == [3.0, 5.0]                                        # the mean of the profile's personas
    assert len(silicon) == 4                                                     # every persona is unlabelled


def test_numeric_items_get_means_and_medians():
    """A numeric instrument (0–100 thermometers, top-coded at 97 in the data): means and PPI medians per item,
    and ρ high when the twins' answers follow their humans'."""
    import silicon_sample as ss

    base = ss.load_baseline("anes_partytherms")
    answered = base.data.dropna(subset=["therm_dem", "therm_gop"])
    rng = np.random.default_rng(9)
    rows = rng.choice(answered.index.to_numpy(), size=200, replace=False)
    long = []
    for i, row in enumerate(rows):
        for item in ("therm_dem", "therm_gop"):
            human = base.data.loc[row, item]
            long.append({"model": "m", "persona_style": "profile_list", "cue_type": "explicit",
                         "perturbation": "original", "persona_id": f"P{i}",
                         "age_band": base.data.loc[row, "age_band"], "weight": 1.0,
                         "source_row": row, "item_id": item, "status": "answered",
                         "answer": float(np.clip(human + rng.normal(0, 10), 0, 97))})
    long = pd.DataFrame(long)
    profiles = base.population.profiles
    tables = twins.calibration_tables(long, base.data, base.instrument, profiles, {}, human_n=60, seed=1,
                                      bootstrap=20, pair_columns=PAIR_COLUMNS)
    table = tables["calibration"]
    medians = table[table.index.get_level_values("estimand") == "median"]
    assert set(medians.index.get_level_values("outcome")) == {"therm_dem", "therm_gop"}
    assert medians["estimate"].between(0, 100).all() and (medians["low"] <= medians["high"]).all()
    means = table[table.index.get_level_values("estimand") == "mean"]
    assert (means["rho"] > 0.8).all() and (means["gain"] > 20).all()     # good twins are worth many humans
    assert tables["calibration_pairs"]["gain_low"].iloc[0] > 0
