"""Subgroup contrasts and pattern correspondence."""

import numpy as np
import pandas as pd
import pytest

from support.human_data import bfi_with_scales


def test_subgroup_contrast_d_by_hand():
    from silicon_sample.comparison.subgroups import pattern_correspondence

    human = pd.DataFrame({"g": ["a", "a", "a", "b", "b", "b"], "y": [1, 2, 3, 3, 4, 5]})
    silicon = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [2, 4, 3, 5]})
    table = pattern_correspondence(human, silicon, ["g"], ["y"], min_n=2, categories={"g": ["a", "b"]})
    row = table.loc[("g", "b vs a", "y")]
    assert row["d_human"] == pytest.approx(2.0)                 # means 4 vs 2, pooled SD 1
    se = np.sqrt(6 / 9 + 4 / 12)
    assert row["ci_low_human"] == pytest.approx(2 - 1.96 * se)
    assert row["d_silicon"] == pytest.approx(1 / np.sqrt(2))    # means 4 vs 3, pooled SD sqrt(2)
    assert row["human_difference"] and row["sign_reproduced"] and not row["size_reproduced"]


def test_pattern_correspondence_of_bfi_with_itself_and_with_gender_shuffled():
    from silicon_sample.comparison.subgroups import pattern_correspondence, pattern_summary

    bfi, keys = bfi_with_scales()
    order = {"gender": ["male", "female"]}
    itself = pattern_correspondence(bfi, bfi, ["gender"], list(keys), categories=order)
    n_women = itself.loc[("gender", "female vs male", "neuroticism")]
    assert n_women["d_human"] > 0.2 and n_women["human_difference"]          # women higher on N in psych::bfi
    summary = pattern_summary(itself)
    assert summary["sign_agreement"] == 1 and summary["size_agreement"] == 1
    assert summary["d_correlation"] == pytest.approx(1.0)
    shuffled = bfi.assign(gender=np.random.default_rng(5).permutation(bfi["gender"].to_numpy()))
    broken = pattern_correspondence(bfi, shuffled, ["gender"], list(keys), categories=order)
    assert broken["size_reproduced"].sum() < len(broken)       # the sizeable human differences are lost
    assert broken.loc[("gender", "female vs male", "agreeableness"), "size_reproduced"] == False  # noqa: E712
