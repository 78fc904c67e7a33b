"""Measurement invariance between human and silicon answers (group = source)."""

import numpy as np
import pytest

from support.human_data import bfi_with_scales


def test_two_random_halves_of_bfi_reach_scalar_invariance():
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    bfi, keys = bfi_with_scales()
    order = np.random.default_rng(20261123).permutation(len(bfi))
    table, highest, note = invariance_between_sources(bfi.iloc[order[:1400]], bfi.iloc[order[1400:]], keys)
    assert note == "" and highest in ("scalar", "strict")
    assert table.loc["metric", "decision"] == "holds" and table.loc["scalar", "decision"] == "holds"
    assert abs(table.loc["scalar", "delta_cfi"]) < 0.002
    assert table["estimator"].str.startswith("MLR").all()   # six options, spread answers: MLR by default


@pytest.mark.slow
def test_shifted_intercepts_break_scalar_invariance_and_partial_invariance_finds_them():
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    bfi, keys = bfi_with_scales()
    silicon = bfi.sample(300, random_state=3).copy()
    shifted = ["A1", "C4", "E2"]
    for item in shifted:                             # answers moved up by 2: an intercept difference
        silicon[item] = np.clip(silicon[item] + 2, 1, 6)
    # answers shifted by 2 fall on 4 distinct values, so the default would be WLSMV; this test is about
    # continuous intercepts
    # by full-information ML (the default): bfi's own blanks stay in
    table, highest, _ = invariance_between_sources(bfi, silicon, keys, levels=("configural", "metric", "scalar"),
                                                   estimator="MLR")
    assert table.loc["metric", "decision"] == "holds" and table.loc["scalar", "decision"] == "fails"
    freed = table.loc["scalar_partial", "freed"]
    assert {f.split("~")[0] for f in freed.split(", ")} <= set(shifted) and highest == "partial scalar"


def test_an_unfittable_silicon_sample_gives_level_none_with_the_reason():
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    bfi, keys = bfi_with_scales()
    silicon = bfi.head(40).copy()
    silicon["N1"] = 4                                # every persona answered alike
    table, highest, note = invariance_between_sources(bfi, silicon, keys)
    assert highest == "none" and "N1 has zero variance" in note and table.index.tolist() == ["none"]
