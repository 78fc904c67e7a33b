"""Single-group CFA against lavaan's numbers."""

import pytest

from silicon_sample.errors import SpecError
from silicon_sample.psychometrics import cfa, measurement_invariance

from support.lavaan_reference import HS_MODEL, assert_agrees, reference


def test_single_group_cfa_agrees_with_lavaan(hs):
    result = cfa(hs, HS_MODEL, estimator="ML")
    assert_agrees(result.fit.iloc[0], "hs_single")
    assert result.fit.loc[0, "chisq"] == pytest.approx(85.306, abs=1e-3)
    ref = reference("hs_single_std_loading")
    for row in result.loadings.itertuples():
        assert abs(row.std_all - float(ref[f"{row.factor}=~{row.item}"])) < 1e-3
    assert "continuous" in result.fit.loc[0, "estimator"]


def test_unsupported_syntax_is_refused_clearly(hs):
    with pytest.raises(SpecError, match="only measurement statements"):
        cfa(hs, HS_MODEL + "\nvisual ~ textual")
    with pytest.raises(SpecError, match="only one group"):
        measurement_invariance(hs.assign(g=1), HS_MODEL, group="g")


# Two one-factor fits from the controls replica's resamples (5 items, n = 60, covariances divided by N, rounded):
# the first runs off to infinity (two clusters of items with negative correlations between them), the second
# passes through a singular stretch and converges (a near-Heywood solution).
RUNS_OFF = [[1.981, 0.598, 0.962, -0.359, -0.657], [0.598, 1.866, 0.713, -0.062, 0.073],
            [0.962, 0.713, 1.923, 0.432, 0.47], [-0.359, -0.062, 0.432, 1.761, 1.087],
            [-0.657, 0.073, 0.47, 1.087, 2.96]]
CONVERGES = [[2.056, -0.15, -0.044, -0.05, 0.083], [-0.15, 1.09, 0.312, -0.01, 0.152],
             [-0.044, 0.312, 1.336, 1.17, 0.901], [-0.05, -0.01, 1.17, 2.007, 0.843],
             [0.083, 0.152, 0.901, 0.843, 1.194]]


def _one_factor(cov):
    import numpy as np

    from silicon_sample.psychometrics.lavaan_syntax import MeasurementModel
    from silicon_sample.psychometrics.moments import GroupMoments
    from silicon_sample.psychometrics.multigroup_ml import MultiGroupModel, ParameterTable

    model = MeasurementModel(("f",), {"f": ("x1", "x2", "x3", "x4", "x5")})
    mg = MultiGroupModel(ParameterTable(model, 1, mean_structure=False),
                         [GroupMoments("all", 60, np.zeros(5), np.array(cov))])
    calls = []
    objective = mg.objective
    mg.objective = lambda theta, *a, **k: calls.append(1) or objective(theta, *a, **k)
    return mg, calls


def test_a_fit_running_off_to_infinity_is_given_up_early_with_a_clear_error():
    from silicon_sample.errors import ConvergenceError

    mg, calls = _one_factor(RUNS_OFF)
    with pytest.raises(ConvergenceError, match="run off to infinity"):
        mg.fit()
    # it used to creep through all 500 iterations with up to 20 step halvings each (about 10,000 evaluations)
    assert len(calls) < 2000


def test_a_fit_passing_through_a_singular_stretch_still_converges():
    import numpy as np

    mg, calls = _one_factor(CONVERGES)
    theta = mg.fit()
    value, gradient = mg.objective(theta)
    assert np.abs(gradient).max() < 1e-5 and value == pytest.approx(0.1118086, abs=1e-6)
