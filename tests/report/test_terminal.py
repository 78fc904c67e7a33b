"""The terminal views of comparison tables: each row shows the figures its estimator says to read."""

import numpy as np
import pandas as pd

from silicon_sample.report.terminal import comparison_view


def test_invariance_rows_show_scaled_indices_under_robust_estimators_and_plain_ones_under_ml():
    table = pd.DataFrame({
        "level": ["configural", "configural"], "model": ["a", "b"],
        "estimator": ["WLSMV: DWLS on polychoric correlations ...", "ML: items treated as continuous"],
        "chisq": [100.0, 50.0], "chisq_scaled": [80.0, np.nan], "df": [10, 10], "cfi": [0.90, 0.95],
        "cfi_scaled": [0.93, np.nan], "rmsea": [0.10, 0.05], "rmsea_scaled": [0.08, np.nan], "srmr": [0.05, 0.04],
        "decision": ["reference", "reference"]}).set_index(["model", "level"])
    view = comparison_view("invariance", table)
    assert view["estimator"].tolist() == ["WLSMV", "ML"]
    assert view["chisq"].tolist() == [80.0, 50.0] and view["cfi"].tolist() == [0.93, 0.95]
    assert view["rmsea"].tolist() == [0.08, 0.05]
    assert table.loc[("a", "configural"), "chisq"] == 100.0           # the table itself is left alone


def test_scale_rows_show_ordinal_alpha_where_the_estimator_is_wlsmv():
    table = pd.DataFrame({
        "scale": ["n", "e"], "estimator": ["WLSMV: ordinal items, read ordinal_alpha and ordinal_omega",
                                           "MLR: items treated as continuous, read alpha and omega_total"],
        "alpha_human": [0.80, 0.75], "alpha_silicon": [0.60, 0.70], "ordinal_alpha_human": [0.85, 0.79],
        "ordinal_alpha_silicon": [0.70, 0.74]}).set_index("scale")
    view = comparison_view("scales", table)
    assert view.loc["n", ["alpha_human", "alpha_silicon"]].tolist() == [0.85, 0.70]
    assert view.loc["e", ["alpha_human", "alpha_silicon"]].tolist() == [0.75, 0.70]
    assert view["estimator"].tolist() == ["WLSMV", "MLR"]
