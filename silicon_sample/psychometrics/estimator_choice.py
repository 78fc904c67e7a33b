"""Which estimator the data call for: WLSMV for coarse ordinal answers, MLR otherwise.

Rule (Rhemtulla, Brosseau-Liard & Savalei 2012): with at most 4 response categories, treating Likert
answers as continuous biases loadings and fit; with 5 or more, robust ML does as well as categorical
estimation. We pick **WLSMV** when an item offers at most 4 response options (``n_options``) or its
answers, in any group, fall on at most 4 distinct values — common in silicon answers piled on two or
three options — and **MLR** otherwise.

Reference: Rhemtulla, M., Brosseau-Liard, P. É., & Savalei, V. (2012). When can categorical variables
be treated as continuous? Psychological Methods, 17, 354–373.
"""

from __future__ import annotations

import pandas as pd

from ..errors import SpecError

ESTIMATORS = ("ML", "MLR", "WLSMV")
MAX_ORDINAL_CATEGORIES = 4


def choose_estimator(data: pd.DataFrame, items: list[str], group: str | None = None,
                     n_options: dict[str, int] | int | None = None) -> tuple[str, str]:
    """``(estimator, reason)`` for these items (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> choose_estimator(pd.DataFrame({"a": [1, 2, 3, 1], "b": [3, 2, 1, 1]}), ["a", "b"])
    ('WLSMV', 'a takes 3 distinct values (at most 4: ordinal)')
    """
    for item in items:
        options = n_options.get(item) if isinstance(n_options, dict) else n_options
        if options is not None and options <= MAX_ORDINAL_CATEGORIES:
            return "WLSMV", f"{item} has {options} response options (at most {MAX_ORDINAL_CATEGORIES}: ordinal)"
        groups = data.groupby(group, sort=False) if group else [("all", data)]
        for label, rows in groups:
            distinct = rows[item].dropna().nunique()
            if distinct <= MAX_ORDINAL_CATEGORIES:
                where = f" in {group}={label}" if group else ""
                return "WLSMV", (f"{item} takes {distinct} distinct values{where} "
                                 f"(at most {MAX_ORDINAL_CATEGORIES}: ordinal)")
    return "MLR", f"every item has more than {MAX_ORDINAL_CATEGORIES} distinct answers (continuous, robust)"


def resolve_estimator(estimator: str | None, data: pd.DataFrame, items: list[str], group: str | None = None,
                      ordered: list[str] | None = None, n_options=None) -> tuple[str, list[str], str]:
    """The estimator to use, the ordered items, and why: explicit choices are checked, None is chosen."""
    if estimator is None:
        estimator, reason = ("WLSMV", "ordered items given") if ordered else choose_estimator(data, items, group,
                                                                                              n_options)
    else:
        estimator = str(estimator).upper()
        reason = "chosen by the user"
        if estimator not in ESTIMATORS:
            raise SpecError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}", where="estimator")
    if estimator == "WLSMV":
        ordered = list(items) if ordered is None else list(ordered)
        if set(ordered) != set(items):
            raise SpecError("WLSMV here needs every item of the model ordered; mixed ordinal and continuous "
                            f"items are not supported (not ordered: {sorted(set(items) - set(ordered))})",
                            where="ordered", fix="pass ordered=None to treat every item as ordinal")
    elif ordered:
        raise SpecError(f"ordered items need estimator='WLSMV', not {estimator!r}", where="estimator")
    return estimator, list(ordered or []), reason


def estimator_name(label: object) -> str:
    """The estimator a table's ``estimator`` label names ("WLSMV: DWLS on …" → "WLSMV"); "" for none."""
    return label.split(":")[0] if isinstance(label, str) else ""
