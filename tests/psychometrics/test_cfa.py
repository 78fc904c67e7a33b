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
