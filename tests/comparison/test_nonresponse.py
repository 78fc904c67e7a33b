"""Refusal, invalid and failed rates by persona attribute, with their chi-square test."""

import numpy as np
import pandas as pd
import pytest


def test_nonresponse_rates_by_attribute_and_their_test():
    from scipy.stats import chi2_contingency

    from silicon_sample.comparison.nonresponse import nonresponse_by_attribute

    # women refuse 30 of 100 cells, men 10 of 100; one failed cell for men (not counted in the test)
    long = pd.DataFrame({"gender": ["female"] * 100 + ["male"] * 101,
                         "status": ["refused"] * 30 + ["answered"] * 70 + ["refused"] * 10 + ["answered"] * 90
                         + ["failed"]})
    table = nonresponse_by_attribute(long, ["gender"])
    assert table.loc[("gender", "female"), "refused_rate"] == pytest.approx(0.30)
    assert table.loc[("gender", "male"), "failed_rate"] == pytest.approx(1 / 101)
    chi2, p, _, _ = chi2_contingency([[70, 30], [90, 10]], correction=False)
    assert table.loc[("gender", "female"), "chi2"] == pytest.approx(chi2)
    assert table.loc[("gender", "male"), "p_value"] == pytest.approx(p) and p < 0.001
    assert table.loc[("gender", "male"), "cramers_v"] == pytest.approx(np.sqrt(chi2 / 200))
    none = nonresponse_by_attribute(long.assign(status="answered"), ["gender"])
    assert none["chi2"].isna().all() and (none["refused_rate"] == 0).all()
