"""Response styles, variance compression and test-retest ICC, on psych::bfi with constructed respondents."""

import numpy as np
import pandas as pd
import pytest

from silicon_sample.comparison.response_styles import response_style_table, retest_table, variance_table

from support.human_data import BFI_ITEMS, bfi_with_scales

OPTIONS = dict.fromkeys(BFI_ITEMS, [1, 2, 3, 4, 5, 6])


@pytest.fixture(scope="module")
def bfi():
    frame, keys = bfi_with_scales()
    return frame.assign(weight=1.0), keys


def test_an_acquiescent_responder_agrees_with_items_and_their_reversals(bfi):
    human, keys = bfi
    yes = human.head(150).copy()
    yes[BFI_ITEMS] = 5                                   # "moderately accurate" to every statement
    table = response_style_table(human, yes, keys, OPTIONS)
    assert table.loc["acquiescence", "silicon"] == pytest.approx(0.6)   # (5 - 3.5) / 2.5 on every scale
    assert abs(table.loc["acquiescence", "human"]) < 0.15
    assert table.loc["contradictions", "silicon"] == 1.0 and table.loc["contradictions", "human"] < 0.3
    assert table.loc[["acquiescence", "contradictions", "within_sd"], "flag"].all()
    assert table.loc["longest_run", "silicon"] == 25 and table.loc["extreme", "silicon"] == 0
    same = response_style_table(human, human.sample(500, random_state=1), keys, OPTIONS)
    assert not same["flag"].any()                         # a human subsample: no style flagged


def test_answers_shrunk_toward_each_items_mode_are_flagged_as_compressed(bfi):
    human, keys = bfi
    modes = human[BFI_ITEMS].mode().iloc[0]
    shrunk = human.sample(600, random_state=2).copy()
    rng = np.random.default_rng(3)
    for item in BFI_ITEMS:
        shrunk[item] = np.where(rng.random(len(shrunk)) < 0.6, modes[item], shrunk[item])
    table = variance_table(human, shrunk, BFI_ITEMS)
    assert (table["ratio"] < 1).all() and table["compressed"].mean() > 0.9
    assert (table["ratio_low"] <= table["ratio"]).all() and (table["ratio"] <= table["ratio_high"]).all()
    alike = variance_table(human, human.sample(600, random_state=4), BFI_ITEMS)
    assert alike["ratio"].between(0.8, 1.25).all() and alike["compressed"].mean() < 0.15


def test_identical_replicates_give_icc_one_and_independent_noise_near_zero(bfi):
    human, _ = bfi
    first = human.dropna(subset=BFI_ITEMS).head(80).assign(persona_id=lambda f: [f"P{i}" for i in range(len(f))])
    twice = pd.concat([first.assign(replicate=1), first.assign(replicate=2)])
    same = retest_table(twice, BFI_ITEMS[:5])
    assert np.allclose(same["icc"], 1.0) and (same["n_respondents"] == 80).all()
    assert same["form"].str.contains("absolute agreement").all()
    noise = twice.copy()
    noise[BFI_ITEMS] = np.random.default_rng(9).integers(1, 7, size=(len(noise), 25))
    independent = retest_table(noise, BFI_ITEMS)
    assert abs(independent["icc"].mean()) < 0.06
    assert (independent["icc_low"] < 0).mean() > 0.8          # intervals mostly reach below zero
    assert retest_table(first.assign(replicate=1), BFI_ITEMS[:2]).empty       # one replicate: nothing to say
