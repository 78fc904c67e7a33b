"""The reference numbers of R's lavaan 0.6.14 / psych 2.2.9, printed by analysis/reference/lavaan_reference.R
into tests/fixtures/lavaan_reference.tsv (R is not needed to run the tests)."""

from __future__ import annotations

import pandas as pd
import pytest

from support.studies import FIXTURES

FIXTURE = FIXTURES / "lavaan_reference.tsv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
# lavaan fitMeasures name -> our column
MEASURES = {"chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
            "rmsea.ci.lower": "rmsea_ci_lower", "rmsea.ci.upper": "rmsea_ci_upper", "srmr": "srmr",
            "aic": "aic", "bic": "bic", "logl": "loglik"}


def reference(section: str) -> dict:
    rows = [line.rstrip("\n").split("\t") for line in FIXTURE.read_text().splitlines()]
    return {key: value for sec, key, value in rows if sec == section}


def assert_agrees(ours: pd.Series, section: str):
    ref = {k: float(v) for k, v in reference(section).items() if k in MEASURES}
    assert int(ours["df"]) == int(ref["df"])                                     # df exact
    assert ours["chisq"] == pytest.approx(ref["chisq"], rel=1e-3)                 # χ² within 0.1%
    for key in ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr"):
        assert abs(ours[MEASURES[key]] - ref[key]) < 1e-3, key                   # within 0.001
    for key in ("aic", "bic", "logl"):
        assert ours[MEASURES[key]] == pytest.approx(ref[key], rel=1e-5), key     # lavaan's scale
