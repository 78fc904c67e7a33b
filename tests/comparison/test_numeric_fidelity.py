"""Numeric and knowledge items compared with humans (silicon_sample/comparison/numeric_fidelity.py and
knowledge.py), checked against scipy and statsmodels."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from silicon_sample.comparison.knowledge import compare_knowledge, newcombe_interval, wilson_interval
from silicon_sample.comparison.numeric_fidelity import NumericItem, compare_numeric, ks_distance, weighted_median

THERMOMETER = {"t": NumericItem(0, 100, special=(998.0,))}


def humans(n=600, seed=1) -> pd.DataFrame:
    """Thermometer-like answers: heaped on multiples of 10 and at 50, as human ratings are."""
    rng = np.random.default_rng(seed)
    values = np.clip(np.round(rng.normal(58, 24, n) / 10) * 10, 0, 100)
    values[rng.random(n) < 0.2] = 50
    return pd.DataFrame({"t": values, "weight": 1.0})


def test_the_distances_equal_scipys_and_weights_count():
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 101, 40).astype(float), rng.integers(20, 80, 30).astype(float)
    row = compare_numeric(pd.DataFrame({"t": x, "weight": 1.0}), pd.DataFrame({"t": y, "weight": 1.0}),
                          {"t": NumericItem(0, 100)}, bootstrap=20, repetitions=3).loc["t"]
    assert row["w1"] == pytest.approx(stats.wasserstein_distance(y, x))
    assert row["ks"] == pytest.approx(stats.ks_2samp(y, x).statistic)
    assert weighted_median(np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 1, 5])) == 4.0
    w = np.where(y < 50, 10.0, 1.0)
    assert ks_distance(y, w, x, np.ones(40)) != pytest.approx(row["ks"])        # weights change the distance


def test_a_copy_of_the_humans_scores_near_the_ceiling_and_uniform_answers_near_the_floor():
    human = humans()
    rng = np.random.default_rng(7)
    sample = human.sample(150, random_state=2).reset_index(drop=True)
    uniform = pd.DataFrame({"t": rng.integers(0, 101, 150).astype(float), "weight": 1.0})
    flat = pd.DataFrame({"t": np.r_[np.full(140, 50.0), np.full(10, 998.0)], "weight": 1.0})
    copy = compare_numeric(human, sample, THERMOMETER, bootstrap=100, repetitions=10).loc["t"]
    random = compare_numeric(human, uniform, THERMOMETER, bootstrap=100, repetitions=10).loc["t"]
    compressed = compare_numeric(human, flat, THERMOMETER, bootstrap=100, repetitions=10).loc["t"]
    assert copy["w1_normalized"] > 0.6 and abs(random["w1_normalized"]) < 0.4
    assert copy["w1_floor_uniform"] > copy["w1_ceiling"]
    assert copy["heaping_10_silicon"] == pytest.approx(1.0) and random["heaping_10_silicon"] < 0.3
    assert compressed["n_special_silicon"] == 10 and compressed["n_silicon"] == 140          # 998 is missing
    assert compressed["sd_ratio"] == 0 and compressed["heaping_50_silicon"] == 1.0
    assert compressed["median_silicon"] == 50 and compressed["median_silicon_low"] == 50


def test_knowledge_intervals_equal_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

    assert wilson_interval(0.3, 50) == pytest.approx(proportion_confint(15, 50, method="wilson"))
    assert newcombe_interval(0.6, 40, 0.3, 50) == pytest.approx(
        confint_proportions_2indep(24, 40, 15, 50, method="newcomb"), abs=1e-9)
    human = pd.DataFrame({"k": [2, 2, 1, 2, np.nan, 1], "sex": ["f", "m", "f", "m", "f", "m"], "weight": 1.0})
    silicon = pd.DataFrame({"k": [1, 1, 2, 2], "sex": ["f", "m", "f", "m"], "weight": 1.0})
    table = compare_knowledge(human, silicon, {"k": 2}, ["sex"], {"sex": ["f", "m"]})
    assert table.loc[("k", "all", "all"), "correct_human"] == pytest.approx(0.6)      # non-answers left out
    assert table.loc[("k", "sex", "m"), ["correct_human", "correct_silicon"]].tolist() == [pytest.approx(2 / 3),
                                                                                        0.5]


def test_subgroups_beat_the_marginal_floor_only_when_the_persona_moves_the_answers():
    """Humans whose ratings depend on party: silicon answers that follow the party sit near the ceiling within
    parties; answers drawn from everybody's answers score at the marginal floor."""
    rng = np.random.default_rng(11)
    party = rng.choice(["dem", "rep"], 800)
    human = pd.DataFrame({"t": np.where(party == "dem", rng.normal(75, 10, 800), rng.normal(30, 10, 800)).round()
                          .clip(0, 100), "party": party, "weight": 1.0})
    follow = human.sample(200, random_state=3).reset_index(drop=True)
    ignore = follow.assign(t=rng.choice(human["t"], 200))
    items = {"t": NumericItem(0, 100)}
    good = compare_numeric(human, follow, items, bootstrap=10, repetitions=10, attributes=["party"]).loc["t"]
    bad = compare_numeric(human, ignore, items, bootstrap=10, repetitions=10, attributes=["party"]).loc["t"]
    assert good["n_subgroups"] == 2 and good["w1_subgroups_normalized"] > 0.7
    assert abs(bad["w1_subgroups_normalized"]) < 0.3
    assert good["w1_subgroups_floor_marginal"] > good["w1_subgroups_ceiling"]
