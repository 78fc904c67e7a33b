"""Open-ended answers coded into categories, and how well coders agree.

- :func:`keyword_codes` — the keyword coder: an answer gets the first category (in codebook order) one of
  whose keywords it contains (a case-insensitive regular expression matched at word boundaries), else the
  codebook's ``other`` code (or none); the matched keyword is kept, so every code can be checked.
- :func:`coder_agreement` — Krippendorff's alpha between two or more coders (nominal: a code is a category,
  not a number), with a percentile bootstrap interval over the answers coded (Hayes & Krippendorff, 2007,
  resample units). An answer one coder left uncoded counts as missing for that coder (alpha's convention);
  alpha needs at least two coded values per unit to use it.
- :func:`code_shares` — each code's share of a source's answers, so coded answers are compared like a
  single-choice item's (:func:`.item_fidelity.compare_items` takes them as items of that codebook's codes).

References
----------
Krippendorff, K. (2004). *Content analysis: an introduction to its methodology* (2nd ed.), ch. 11.
Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability measure for coding
data. *Communication Methods and Measures*, 1(1), 77–89.

Examples
--------
>>> import pandas as pd
>>> from silicon_sample.specs.codebooks import Category, Codebook
>>> book = Codebook(id="b", name="b", items=("mip",), other=9, categories=(
...     Category(code=1, label="Economy", keywords=("econom\\\\w*", "jobs?")),
...     Category(code=2, label="Health", keywords=("health",))))
>>> keyword_codes(pd.Series(["The economy", "health care costs", "crime"]), book)["code"].tolist()
[1, 2, 9]
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def _patterns(codebook) -> list[tuple[int, re.Pattern, str]]:
    return [(c.code, re.compile(rf"\b(?:{k})\b", re.IGNORECASE), k) for c in codebook.categories for k in c.keywords]


def keyword_codes(texts: pd.Series, codebook) -> pd.DataFrame:
    """Per answer: ``code`` (Int64; missing for an empty answer, or when nothing matches and the codebook has
    no ``other``) and ``matched`` (the keyword that decided it)."""
    patterns = _patterns(codebook)
    codes, matched = [], []
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            codes.append(pd.NA)
            matched.append(None)
            continue
        hit = next(((code, keyword) for code, pattern, keyword in patterns if pattern.search(text)), None)
        codes.append(hit[0] if hit else (codebook.other if codebook.other is not None else pd.NA))
        matched.append(hit[1] if hit else None)
    return pd.DataFrame({"code": pd.array(codes, dtype="Int64"), "matched": matched}, index=texts.index)


def coder_agreement(codes: pd.DataFrame, *, bootstrap: int = 1000, seed: int = 0, level: float = 0.95
                    ) -> pd.DataFrame:
    """Krippendorff's alpha (nominal) of the coders in ``codes`` (one column per coder, one row per answer),
    overall and for every pair of coders, with its percentile bootstrap interval and the number of answers
    coded by at least two of them (module docstring)."""
    import krippendorff

    rng = np.random.default_rng(seed)
    coders = list(codes.columns)
    sets = [("all coders", coders)] if len(coders) > 2 else []
    sets += [(f"{a} / {b}", [a, b]) for i, a in enumerate(coders) for b in coders[i + 1:]]
    rows = {}
    for name, members in sets:
        data = codes[members].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float).T   # coders × units
        pairable = (~np.isnan(data)).sum(axis=0) >= 2
        data = data[:, pairable]
        n = data.shape[1]
        alpha = _alpha(krippendorff, data)
        draws = [_alpha(krippendorff, data[:, rng.integers(0, n, n)]) for _ in range(bootstrap if n > 1 else 0)]
        draws = [d for d in draws if np.isfinite(d)]
        tail = (1 - level) / 2 * 100
        low, high = (np.percentile(draws, [tail, 100 - tail]) if len(draws) > 1 else (np.nan, np.nan))
        agree = float(np.mean([len(set(col[~np.isnan(col)])) == 1 for col in data.T])) if n else np.nan
        rows[name] = {"coders": len(members), "n_answers": n, "alpha": alpha, "alpha_low": float(low),
                      "alpha_high": float(high), "percent_agreement": agree}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "coders"
    return table


def _alpha(krippendorff, data: np.ndarray) -> float:
    values = data[~np.isnan(data)]
    if data.shape[1] == 0 or len(np.unique(values)) < 2:
        return np.nan            # one category only: alpha is undefined (no disagreement to expect)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def code_shares(codes: pd.Series, all_codes: tuple[int, ...], weights: pd.Series | None = None) -> pd.Series:
    """Each code's (weighted) share of the coded answers, in codebook order."""
    coded = pd.to_numeric(codes, errors="coerce")
    w = pd.Series(1.0, index=coded.index) if weights is None else weights.astype(float)
    keep = coded.notna()
    total = w[keep].sum()
    return pd.Series({code: float(w[keep & (coded == code)].sum() / total) if total else np.nan
                      for code in all_codes}, name="share")


__all__ = ["code_shares", "coder_agreement", "keyword_codes"]
