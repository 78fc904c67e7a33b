"""Impossible figures are NaN with their reason (issue 26, part 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from silicon_sample.comparison.impossible import flag_impossible


def test_infinite_values_and_reliabilities_above_one_become_nan_with_the_reason():
    table = pd.DataFrame({"d": [0.4, np.inf, -np.inf], "alpha_silicon": [23.1, -0.3, 0.8],
                          "ordinal_omega_silicon": [0.7, 188374.08, 1.0], "alpha_gap": [5.0, -2.0, 0.1],
                          "note": ["", "kept", ""]}, index=["a", "b", "c"])
    out = flag_impossible(table)
    assert np.isnan(out.loc["a", "alpha_silicon"]) and out.loc["b", "alpha_silicon"] == -0.3
    assert np.isnan(out.loc["b", "d"]) and np.isnan(out.loc["c", "d"]) and out.loc["a", "d"] == 0.4
    assert np.isnan(out.loc["b", "ordinal_omega_silicon"]) and out.loc["c", "ordinal_omega_silicon"] == 1.0
    assert out.loc["a", "alpha_gap"] == 5.0                       # a difference, not a reliability
    assert "alpha_silicon 23.1 is impossible" in out.loc["a", "note"]
    assert out.loc["b", "note"].startswith("kept; d undefined (no variance to divide by)")
    assert "ordinal_omega_silicon 1.88e+05 is impossible" in out.loc["b", "note"]
    assert "alpha_silicon -0.3 is negative" in out.loc["b", "note"]
    assert out.loc["c", "note"] == "d undefined (no variance to divide by)"


def test_a_table_with_nothing_impossible_is_returned_as_it_is():
    table = pd.DataFrame({"d": [0.1], "alpha_human": [0.8]})
    assert flag_impossible(table) is table
