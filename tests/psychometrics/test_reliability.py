"""Reliability (alpha, omega, mean inter-item r, item statistics) against psych's numbers."""

import numpy as np
import pytest

from silicon_sample.psychometrics import reliability
from silicon_sample.specs import instruments

from support.lavaan_reference import reference


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
        # ordinal alpha and omega from polychorics, psych's conventions (within 1e-4)
        assert scales.loc[scale, "ordinal_alpha"] == pytest.approx(float(reference("bfi_ordinal_alpha")[scale]),
                                                                   abs=1e-4)
        assert scales.loc[scale, "ordinal_omega"] == pytest.approx(float(reference("bfi_ordinal_omega")[scale]),
                                                                   abs=1e-4)
        assert scales.loc[scale, "estimator"].startswith("MLR")   # six options, spread answers
    for (scale, item), row in items.iterrows():
        assert row["r_drop"] == pytest.approx(float(reference("bfi_r_drop")[f"{scale}:{item}"]), abs=1e-6)
        assert row["alpha_if_deleted"] == pytest.approx(float(reference("bfi_alpha_drop")[f"{scale}:{item}"]),
                                                        abs=1e-6)


def test_reliability_with_too_few_respondents_says_why(bfi):
    scales, items = reliability(bfi.head(2), {"neuroticism": ["N1", "N2", "N3", "N4", "N5"]}, scale_range=(1, 6))
    assert np.isnan(scales.loc["neuroticism", "alpha"])
    assert "at least 3 needed" in scales.loc["neuroticism", "note"]
    assert items.empty


def test_coarse_answers_point_to_the_ordinal_coefficients(bfi):
    coarse = bfi.assign(**{f"N{i}": bfi[f"N{i}"].clip(upper=3) for i in range(1, 6)})
    scales, _ = reliability(coarse, {"neuroticism": ["N1", "N2", "N3", "N4", "N5"]})
    row = scales.loc["neuroticism"]
    assert row["estimator"].startswith("WLSMV") and "ordinal_alpha" in row["estimator"]
    assert 0.5 < row["ordinal_alpha"] < 1 and row["ordinal_alpha"] > row["alpha"]   # Pearson r attenuated


def test_a_two_item_scale_has_alpha_but_no_alpha_if_an_item_is_deleted(bfi):
    import pingouin as pg

    scales, items = reliability(bfi[["A1", "A2"]].dropna(), {"pair": ["-A1", "A2"]}, scale_range=(1, 6))
    reversed_a1 = bfi[["A1", "A2"]].dropna().assign(A1=lambda d: 7 - d["A1"])
    assert scales.loc["pair", "alpha"] == pytest.approx(pg.cronbach_alpha(reversed_a1)[0], abs=1e-10)
    assert items["alpha_if_deleted"].isna().all() and items["r_drop"].notna().all()
