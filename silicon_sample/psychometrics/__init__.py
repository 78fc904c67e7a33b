"""Psychometrics on plain DataFrames (no backends, runner or store imported here).

- :func:`reliability` — alpha with Feldt CI, omega total, mean inter-item r, item–total statistics, and
  ordinal alpha and omega from polychoric correlations
- :func:`cfa` — single-group CFA by ML, MLR or WLSMV with lavaan's fit indices and robust measures
- :func:`measurement_invariance` — configural / (thresholds) / metric / scalar / strict, jointly over
  groups, Chen's (2007) decisions, lavaan's nested tests and partial invariance by score tests
- :func:`choose_estimator` — WLSMV for items with at most 4 categories, MLR otherwise

Every output table names the estimator and its conventions.
"""

from .cfa import CFAResult, cfa
from .estimator_choice import ESTIMATORS, choose_estimator, estimator_name
from .invariance import CHEN_CUTOFFS, measurement_invariance
from .reliability import omega_total, reliability

__all__ = ["CFAResult", "CHEN_CUTOFFS", "ESTIMATORS", "cfa", "choose_estimator", "estimator_name",
           "measurement_invariance", "omega_total", "reliability"]
