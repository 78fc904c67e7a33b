"""Silicon versus human answers: the fidelity statistics, their tables, and the one module reading runs.

Statistics take DataFrames and return DataFrames; only :mod:`.runs` reads run folders, and it does so
through :mod:`silicon_sample.tidy.results` (never the store, a backend or the runner).

- :mod:`.item_fidelity` — distributions, representativeness, JS distance, d per item;
- :mod:`.scale_fidelity` — scale means, SDs, d, alpha and omega side by side;
- :mod:`.structure` — correlation SRMR and Tucker's congruence;
- :mod:`.source_invariance` — measurement invariance with group = source;
- :mod:`.subgroups` — subgroup metrics and pattern correspondence;
- :mod:`.nonresponse` — refusal / invalid / failed rates by persona attribute;
- :mod:`.ordinal_model` — the Bayesian hierarchical ordinal model (PyMC);
- :mod:`.ranking` — one row per model–persona pair with a one-line reading;
- :mod:`.tables` — :func:`compare_answers`, every table from plain DataFrames;
- :mod:`.runs` — the same for run folders, the ordinal model and the ranking of runs.
"""

from .item_fidelity import cohens_d, compare_items, js_distance, option_distribution, representativeness
from .tables import compare_answers

__all__ = ["cohens_d", "compare_answers", "compare_items", "js_distance", "option_distribution",
           "representativeness"]
