"""Raking and post-stratification weights (balance) and Kish's effective n."""

import pytest

from silicon_sample.population import populations

AGESEX = "us_adults_agesex2020"


def test_poststratification_and_raking_weights_hit_the_target():
    from silicon_sample.population.weighting import poststratification_weights, raking_weights, weight_summary

    target = populations.load(AGESEX)
    sample = populations.load("us_adults_gss2018").sample(2000, seed=8, method="microdata")
    post = poststratification_weights(sample, target.joint, ["age_band", "sex"])
    cells = (post.groupby([sample["age_band"], sample["sex"]]).sum() / post.sum())
    for row in target.joint.itertuples():
        assert cells[(row.age_band, row.sex)] == pytest.approx(row.share, abs=1e-9)
    raked = raking_weights(sample, target.marginals(), ["age_band", "sex"])
    for variable in ("age_band", "sex"):
        shares = raked.groupby(sample[variable]).sum() / raked.sum()
        for category, share in target.marginals()[variable].items():
            assert shares[category] == pytest.approx(share, abs=1e-6)
    summary = weight_summary(post)
    w = post.to_numpy()
    assert summary["kish_ess"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
    assert summary["design_effect"] == pytest.approx(1 + (w.std() / w.mean()) ** 2)   # Kish: deff = 1 + CV²
    assert 1 < summary["design_effect"] < 2
