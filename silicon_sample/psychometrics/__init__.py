"""Psychometrics on plain DataFrames (no backends, runner or store imported here).

- :func:`reliability` — alpha with Feldt CI, omega total, mean inter-item r, item–total statistics
- :func:`cfa` — single-group CFA (semopy) with lavaan's fit indices
- :func:`measurement_invariance` — configural / metric / scalar / strict, joint multi-group ML,
  Chen's (2007) decisions and partial invariance by score tests

Likert items are treated as continuous (normal-theory ML); every output says so.
"""

from .cfa import CFAResult, cfa
from .invariance import CHEN_CUTOFFS, measurement_invariance
from .reliability import omega_total, reliability

__all__ = ["CFAResult", "CHEN_CUTOFFS", "cfa", "measurement_invariance", "omega_total", "reliability"]
