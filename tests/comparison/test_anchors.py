"""Floors, the human ceiling and normalized scores, on psych::bfi with known truths."""

import numpy as np
import pytest

from silicon_sample.comparison.anchors import anchored_figures, marginal_sample, shuffled_sample, uniform_sample
from silicon_sample.comparison.setting import setting_for, with_scale_scores
from silicon_sample.specs import instruments

from support.human_data import bfi_with_scales

SUBGROUPS = {"gender": ["male", "female"]}


@pytest.fixture(scope="module")
def halves():
    bfi, _ = bfi_with_scales()
    bfi = bfi.dropna(subset=["gender"]).assign(weight=1.0)
    order = np.random.default_rng(20261124).permutation(len(bfi))
    human, other = bfi.iloc[order[:2000]], bfi.iloc[order[2000:2400]]
    setting = setting_for(human, instruments.load("bfi25"), SUBGROUPS)
    return setting, with_scale_scores(other, setting)


def anchor(setting, silicon):
    return anchored_figures(setting.human, silicon, setting, bootstrap=60, repetitions=6, seed=3).figures


def test_another_human_sample_scores_near_one_and_is_never_tied_with_a_floor(halves):
    setting, other = halves
    table = anchor(setting, other)
    for family in ("levels", "structure", "subgroups"):
        row = table.loc[family]
        assert row["normalized"] == pytest.approx(1.0, abs=0.2), family
        # its interval stays clear of every floor (the subgroups' lower end is the noisiest: 0.27-0.64 over seeds 1-6)
        assert row["normalized_low"] > 0.2, family
    figure = table.loc["item_representativeness"]
    assert figure["uniform_floor"] < figure["ci_low"] <= figure["value"] <= figure["ci_high"]
    assert figure["ceiling"] == pytest.approx(figure["value"], abs=0.01)
    srmr = table.loc["correlation_srmr"]
    assert srmr["best_floor_is"] in ("uniform", "marginal") and srmr["best_floor"] > 3 * srmr["value"]


@pytest.mark.slow
def test_noise_and_marginal_answers_score_near_zero_where_they_know_nothing(halves):
    setting, other = halves
    rng = np.random.default_rng(5)
    uniform = anchor(setting, uniform_sample(other, setting, rng))
    for family in ("levels", "structure"):                   # the uniform floor is their zero
        assert abs(uniform.loc[family, "normalized"]) < 0.25, family
        assert uniform.loc[family, "normalized_low"] <= 0 <= uniform.loc[family, "normalized_high"], family
    # for subgroups the marginal and shuffled floors know the levels, so noise falls below the best floor
    assert uniform.loc["subgroups", "normalized"] < 0.25 and uniform.loc["subgroups", "normalized_low"] <= 0
    marginal = anchor(setting, marginal_sample(other, setting, rng))
    # the right levels by construction, and nothing else
    assert marginal.loc["levels", "normalized"] > 0.8
    assert abs(marginal.loc["structure", "normalized"]) < 0.35 and abs(marginal.loc["subgroups", "normalized"]) < 0.35


@pytest.mark.slow
def test_shuffled_attributes_keep_levels_and_destroy_subgroup_patterns(halves):
    setting, other = halves
    real = anchor(setting, other)
    shuffled = anchor(setting, shuffled_sample(other, setting, np.random.default_rng(8)))
    for figure in ("item_representativeness", "item_abs_d", "correlation_srmr"):
        assert shuffled.loc[figure, "value"] == pytest.approx(real.loc[figure, "value"])
    assert real.loc["sign_agreement", "value"] == 1.0
    assert shuffled.loc["subgroups", "normalized"] < real.loc["subgroups", "normalized"] - 0.5


def test_each_item_and_scale_is_anchored_too(halves):
    setting, other = halves
    anchored = anchored_figures(setting.human, other, setting, bootstrap=40, repetitions=4, seed=1)
    items = anchored.rows["items"]
    assert list(items.index) == list(setting.options)
    assert (items["representativeness_uniform_floor"] < items["representativeness_ceiling"]).all()
    assert (items["representativeness_ci_low"] <= items["representativeness_ci_high"]).all()
    # another human sample: about 1, each item within the noise of four ceiling draws (0.76-1.68 over seeds 1-3)
    assert items["representativeness_normalized"].median() == pytest.approx(1.0, abs=0.15)
    assert items["representativeness_normalized"].between(0.5, 2.0).all()
    scales = anchored.rows["scales"]             # |d| per scale: lower is better, the uniform floor far above
    assert list(scales.index) == list(setting.keys)
    assert (scales["abs_d_uniform_floor"] > scales["abs_d_ceiling"]).all()
    assert (scales["abs_d_ci_low"] <= scales["abs_d_ci_high"]).all()
    assert (scales["abs_d_normalized_low"] <= scales["abs_d_normalized_high"]).all()
    assert scales["abs_d_normalized"].between(0.6, 1.5).all()          # one scale, four ceiling draws: noisy
    structure = anchored.rows["structure"]       # congruence per scale against structure-free floors
    fitted = structure["congruence_normalized"].dropna()        # a one-factor model may not fit a floor's noise
    assert len(fitted) >= 3 and (fitted > 0.8).all()
    best_floor = structure[["congruence_uniform_floor", "congruence_marginal_floor"]].max(axis=1).dropna()
    assert (structure.loc[best_floor.index, "congruence_ceiling"] > best_floor).all()
    patterns = anchored.rows["patterns"]         # |d_silicon - d_human| per contrast; shuffled floor = |d_human|
    women = patterns.loc[("gender", "female vs male", "neuroticism")]
    assert women["delta_d_shuffled_floor"] > 0.15 and women["delta_d_ceiling"] < women["delta_d_shuffled_floor"]
    assert set(anchored.rows["subgroups"].index.get_level_values("attribute")) == {"gender"}


def test_the_invariance_ceiling_is_fitted_with_the_pairs_estimator(halves):
    """400 humans against the other 1600 under WLSMV (the thresholds level included), as the pair was."""
    from silicon_sample.comparison.source_invariance import INVARIANCE_ORDER

    setting, other = halves
    anchored = anchored_figures(setting.human, other, setting, bootstrap=10, repetitions=2, seed=1,
                                invariance_level="scalar", invariance_estimator="WLSMV")
    row = anchored.figures.loc["invariance_level"]
    assert "(WLSMV)" in row["note"]
    assert row["ceiling"] >= INVARIANCE_ORDER.index("partial metric")  # humans against humans
    assert row["normalized"] == pytest.approx(INVARIANCE_ORDER.index("scalar") / row["ceiling"])
