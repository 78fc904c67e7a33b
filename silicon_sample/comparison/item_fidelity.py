"""Item-level fidelity: how closely the silicon answer distribution of each item matches the human one.

- Representativeness (OpinionQA; Santurkar et al., 2023):
  R = 1 − W₁(D_human, D_silicon) / (k − 1), where W₁ is the 1-Wasserstein
  distance between the two distributions over the option positions 0 … k−1
  and k − 1 is its largest possible value. R = 1 for identical distributions,
  0 for all mass on opposite ends.
- Jensen–Shannon distance with base-2 logarithms (so it lies in [0, 1]):
  √(½ KL(P‖M) + ½ KL(Q‖M)), M = ½(P + Q) (scipy).
- Mean difference (silicon − human) and Cohen's d with the pooled SD
  √(((n_h − 1)s_h² + (n_s − 1)s_s²) / (n_h + n_s − 2)), SDs with N − 1, and its 95 % interval
  d ± 1.96 SE with Hedges & Olkin's (1985) large-sample SE (:func:`d_standard_error`); each mean with its
  95 % t interval (:func:`mean_interval`: ``mean_human_low`` … ``mean_silicon_high``).

With weights, distributions, means and SDs are weighted (SD from the weighted
variance with the frequency-weight correction Σw − 1), and n is Kish's
effective sample size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from ..population.weighting import kish_effective_n
from .frame_memo import memo, weights_key


def option_distribution(answers, options, weights=None) -> np.ndarray:
    """Share of (weighted) answers on each option, in option order; missing answers are left out."""
    x = pd.Series(answers, dtype=float).to_numpy()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(x)
    x, w = x[keep], w[keep]
    counts = np.array([w[x == v].sum() for v in options], dtype=float)
    total = counts.sum()
    return counts / total if total > 0 else np.full(len(options), np.nan)


def representativeness(p, q) -> float:
    """1 − W₁(p, q) / (k − 1) over option positions 0 … k−1.

    >>> representativeness([1, 0, 0], [0, 0, 1])
    0.0
    >>> representativeness([0.5, 0.5, 0], [0, 0.5, 0.5])
    0.5
    """
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if not (np.isfinite(p).all() and np.isfinite(q).all()):    # a source with no answer to the item
        return np.nan
    positions = np.arange(len(p))
    return float(1.0 - wasserstein_distance(positions, positions, p, q) / (len(p) - 1))


def js_distance(p, q) -> float:
    """Jensen–Shannon distance, base 2 (0 = identical, 1 = disjoint); NaN when a source has no answer."""
    if not (np.isfinite(np.asarray(p, dtype=float)).all() and np.isfinite(np.asarray(q, dtype=float)).all()):
        return np.nan
    return float(jensenshannon(np.asarray(p, dtype=float), np.asarray(q, dtype=float), base=2))


def mean_interval(mean: float, sd: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """The t interval of a mean: mean ± t(1 − α/2, n − 1) · sd / √n, with n the (Kish effective) sample size
    and sd with N − 1 (:func:`weighted_moments`); NaN below two respondents.

    Examples
    --------
    >>> [round(x, 3) for x in mean_interval(3.0, 1.0, 25)]
    [2.587, 3.413]
    """
    from scipy import stats

    if not (n > 1 and np.isfinite(sd)):
        return np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return float(mean - half), float(mean + half)


def numeric_array(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """``frame[columns]`` as floats (respondents × columns), anything not a number NaN; columns already numeric
    are taken as they are (the anchors pass hundreds of resamples of one converted frame).

    Each figure of a resample reads the same columns again, so the array is kept while the frame lives
    (:func:`.frame_memo.memo`) and is read-only."""
    return memo(frame, ("numeric array", tuple(columns)), _numeric_array, frame, list(columns))


def _numeric_array(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    part = frame[columns]
    if all(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) for dtype in part.dtypes):
        x = part.to_numpy(dtype=float, na_value=np.nan, copy=True)
    else:
        x = part.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    x.flags.writeable = False
    return x


def weighted_moments(x, w) -> tuple[float, float, float]:
    """Weighted mean, SD (frequency-weight correction Σw − 1) and Kish's effective n of the non-missing ``x``."""
    keep = ~np.isnan(x)
    x, w = x[keep], w[keep]
    if not len(x) or w.sum() <= 0:      # nobody answered (every persona said "Don't know", say)
        return np.nan, np.nan, 0.0
    mean = np.average(x, weights=w)
    variance = np.sum(w * (x - mean) ** 2) / (w.sum() - 1) if w.sum() > 1 else np.nan
    return float(mean), float(np.sqrt(variance)), kish_effective_n(w)


def cohens_d(silicon, human, silicon_weights=None, human_weights=None) -> float:
    """Cohen's d of silicon − human with the pooled SD (N − 1 in each group)."""
    xs, xh = np.asarray(silicon, dtype=float), np.asarray(human, dtype=float)
    ws = np.ones_like(xs) if silicon_weights is None else np.asarray(silicon_weights, dtype=float)
    wh = np.ones_like(xh) if human_weights is None else np.asarray(human_weights, dtype=float)
    return d_from_moments(*weighted_moments(xs, ws), *weighted_moments(xh, wh))


def d_from_moments(ms: float, ss: float, ns: float, mh: float, sh: float, nh: float) -> float:
    """Cohen's d from each group's mean, SD and n: (m_s − m_h) / √(((n_s − 1)s_s² + (n_h − 1)s_h²) / (n_s + n_h − 2)),
    a group of one adding nothing to the pooled variance; NaN without two answers in all."""
    if not (np.isfinite(ms) and np.isfinite(mh)) or ns + nh <= 2:
        return np.nan
    spread = sum((n - 1) * s ** 2 for s, n in ((ss, ns), (sh, nh)) if n > 1 and np.isfinite(s))
    pooled = np.sqrt(spread / (ns + nh - 2))
    return float((ms - mh) / pooled) if pooled > 0 else (0.0 if ms == mh else float(np.sign(ms - mh) * np.inf))


def d_standard_error(d: float, n1: float, n2: float) -> float:
    """Large-sample SE of a standardized mean difference (Hedges & Olkin, 1985):
    √((n₁ + n₂)/(n₁n₂) + d²/(2(n₁ + n₂))); the 95 % interval is :func:`d_interval`."""
    return float(np.sqrt((n1 + n2) / (n1 * n2) + d ** 2 / (2 * (n1 + n2))))


Z_95 = 1.96   # the normal quantile every 95 % interval of d uses (written 1.96 in the tables' conventions)


def d_interval(d: float, n1: float, n2: float) -> tuple[float, float]:
    """d ± 1.96 SE (:func:`d_standard_error`); NaN when d is not finite or a group has fewer than two.

    >>> [round(x, 3) for x in d_interval(0.5, 50, 50)]
    [0.102, 0.898]
    """
    if not (np.isfinite(d) and min(n1, n2) > 1):
        return np.nan, np.nan
    half = Z_95 * d_standard_error(d, n1, n2)
    return d - half, d + half


def comparison_row(human: tuple[float, float, float], silicon: tuple[float, float, float]) -> dict:
    """The fields every human-versus-silicon row has, from each source's (mean, SD, n)
    (:func:`weighted_moments`): ``n_human``, ``n_silicon`` (Kish), the means with their 95 % t intervals
    (:func:`mean_interval`), SDs (N − 1), ``mean_diff`` (silicon − human) and d with the pooled SD
    (:func:`d_from_moments`) and its Hedges–Olkin interval (:func:`d_interval`)."""
    mh, sh, nh = human
    ms, ss, ns = silicon
    d = d_from_moments(ms, ss, ns, mh, sh, nh)
    mh_low, mh_high = mean_interval(mh, sh, nh)
    ms_low, ms_high = mean_interval(ms, ss, ns)
    d_low, d_high = d_interval(d, ns, nh)
    return {"n_human": nh, "n_silicon": ns, "mean_human": mh, "mean_silicon": ms, "mean_human_low": mh_low,
            "mean_human_high": mh_high, "mean_silicon_low": ms_low, "mean_silicon_high": ms_high, "sd_human": sh,
            "sd_silicon": ss, "mean_diff": ms - mh, "d": d, "d_low": d_low, "d_high": d_high}


def distribution_row(values: list, human: np.ndarray, silicon: np.ndarray) -> dict:
    """Representativeness, the Jensen–Shannon distance and both option distributions (``p_human_{v}``,
    ``p_silicon_{v}``) of one item."""
    row = {"representativeness": representativeness(human, silicon), "js_distance": js_distance(human, silicon)}
    row.update({f"p_human_{v}": p for v, p in zip(values, human)})
    row.update({f"p_silicon_{v}": p for v, p in zip(values, silicon)})
    return row


def source_items(answers: pd.DataFrame, options: dict[str, list[int]], source: str = "silicon") -> pd.DataFrame:
    """Per item, one source alone: n (Kish), the weighted mean with its 95 % t interval, the SD (N − 1) and
    the option distribution ``p_{source}_{v}``, computed as :func:`compare_items` computes each side.

    Parameters
    ----------
    answers : DataFrame
        Long answers: ``item_id``, ``answer`` (NaN = no answer) and ``weight`` (optional).
    options : dict
        ``{item: [option values in scale order]}``.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"item_id": ["q", "q", "q"], "answer": [1, 2, 2], "weight": [2.0, 1.0, 1.0]})
    >>> source_items(long, {"q": [1, 2, 3]}).loc["q", ["p_silicon_1", "p_silicon_2", "p_silicon_3"]].tolist()
    [0.5, 0.5, 0.0]
    """
    rows = []
    for item, values in options.items():
        mine = answers[answers["item_id"] == item]
        x = pd.to_numeric(mine["answer"], errors="coerce").to_numpy(dtype=float)
        w = mine["weight"].to_numpy(dtype=float) if "weight" in mine else np.ones(len(x))
        mean, sd, n = weighted_moments(x, w)
        low, high = mean_interval(mean, sd, n)
        row = {"item": item, f"n_{source}": n, f"mean_{source}": mean, f"mean_{source}_low": low,
               f"mean_{source}_high": high, f"sd_{source}": sd}
        row.update({f"p_{source}_{v}": p for v, p in zip(values, option_distribution(x, values, w))})
        rows.append(row)
    return pd.DataFrame(rows).set_index("item")


def option_shares(table: pd.DataFrame, options: dict[str, list[int]]) -> pd.DataFrame:
    """The option distributions an items table holds (``p_human_{v}``, ``p_silicon_{v}``) as long rows:
    ``item``, ``option``, ``share``, ``source`` (every option of each item, 0 where nobody chose it), for
    figures drawn from the table they illustrate."""
    rows = []
    for item, row in table.iterrows():
        for source in ("silicon", "human"):
            for value in options.get(item, []):
                column = f"p_{source}_{value}"
                if column in row.index and pd.notna(row[column]):
                    rows.append({"item": item, "option": value, "share": float(row[column]), "source": source})
    return pd.DataFrame(rows, columns=["item", "option", "share", "source"])


def column_moments(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Per column of ``x`` (respondents × outcomes, NaN = no answer): count, weighted mean, SD (Σw − 1) and
    Kish's effective n of the answers, as :func:`weighted_moments` gives them one column at a
    time (NaN mean without answers or weight, NaN SD for Σw ≤ 1)."""
    answered = ~np.isnan(x)
    weight = np.where(answered, w[:, None], 0.0)
    values = np.where(answered, x, 0.0)
    total, squared = weight.sum(axis=0), (weight ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, (weight * values).sum(axis=0) / np.where(total > 0, total, 1.0), np.nan)
        deviation = np.where(answered, values - mean, 0.0)
        variance = np.where(total > 1, (weight * deviation ** 2).sum(axis=0) / (total - 1), np.nan)
        kish = np.where(total > 0, total ** 2 / np.where(squared > 0, squared, 1.0), 0.0)
    return {"n": answered.sum(axis=0), "mean": mean, "sd": np.sqrt(variance), "kish": kish, "total": total}


def pooled_d(s: dict, h: dict) -> np.ndarray:
    """:func:`d_from_moments` over arrays: silicon − human over the pooled SD, a group of one
    adding nothing; NaN without two answers in all; 0 or ±inf when the pooled SD is 0."""
    ns, nh = s["kish"], h["kish"]
    spread = sum(np.where((n > 1) & np.isfinite(sd), (n - 1) * np.nan_to_num(sd) ** 2, 0.0)
                 for sd, n in ((s["sd"], ns), (h["sd"], nh)))
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.sqrt(spread / (ns + nh - 2))
        d = np.where(pooled > 0, (s["mean"] - h["mean"]) / pooled,
                     np.where(s["mean"] == h["mean"], 0.0, np.sign(s["mean"] - h["mean"]) * np.inf))
    return np.where(np.isfinite(s["mean"]) & np.isfinite(h["mean"]) & (ns + nh > 2), d, np.nan)


def option_distributions(x: np.ndarray, w: np.ndarray, codes: list[int]) -> np.ndarray:
    """(outcomes × options) shares of the weighted answers (:func:`option_distribution`)."""
    counts = np.stack([(w[:, None] * (x == v)).sum(axis=0) for v in codes], axis=1)
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts / np.where(total > 0, total, 1.0), np.nan)


def distribution_distances(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise representativeness 1 − W₁/(k − 1) (W₁ over option positions: the summed absolute difference
    of the cumulative shares) and the base-2 Jensen–Shannon distance, as :func:`representativeness`
    and :func:`js_distance` (scipy's) give them one row at a time; NaN where a row has no answers."""
    from scipy.special import rel_entr

    k = p.shape[1]
    r = 1.0 - np.abs(np.cumsum(p, axis=1) - np.cumsum(q, axis=1))[:, :-1].sum(axis=1) / (k - 1)
    m = (p + q) / 2.0
    with np.errstate(invalid="ignore"):
        js = np.sqrt(np.maximum((rel_entr(p, m).sum(axis=1) + rel_entr(q, m).sum(axis=1)) / 2.0, 0.0) / np.log(2))
    finite = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    return np.where(finite, r, np.nan), np.where(finite, js, np.nan)


def compare_items(human: pd.DataFrame, silicon: pd.DataFrame, options: dict[str, list[int]],
                  human_weights=None, silicon_weights=None) -> pd.DataFrame:
    """Per item: n, means, SDs, mean difference, d, representativeness, JS distance and both distributions.

    Every item is computed at once (:func:`column_moments`, :func:`option_distributions`), equal to
    :func:`comparison_row` and :func:`distribution_row` one item at a time; the human side is computed once per
    baseline frame (the anchors call this hundreds of times per pair).

    Parameters
    ----------
    human, silicon : DataFrame
        One row per respondent, one column per item (numeric answers, NaN = no answer).
    options : dict
        ``{item: [option values in scale order]}``; items compared are its keys.
    human_weights, silicon_weights : array-like, optional
        Survey or raking weights per row.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"q": [1, 2, 2, 3]}); s = pd.DataFrame({"q": [1, 2, 2, 3]})
    >>> compare_items(h, s, {"q": [1, 2, 3]}).loc["q", ["representativeness", "d"]].tolist()
    [1.0, 0.0]
    """
    from scipy import stats

    wh = np.ones(len(human)) if human_weights is None else np.asarray(human_weights, dtype=float)
    ws = np.ones(len(silicon)) if silicon_weights is None else np.asarray(silicon_weights, dtype=float)
    items = list(options)
    by_codes: dict[tuple, list[int]] = {}
    for column, item in enumerate(items):
        by_codes.setdefault(tuple(options[item]), []).append(column)

    def side(frame: pd.DataFrame, w: np.ndarray) -> tuple[dict, dict]:
        x = numeric_array(frame, items)
        return column_moments(x, w), {codes: option_distributions(x[:, columns], w, list(codes))
                                      for codes, columns in by_codes.items()}

    h, ph = memo(human, ("item sides", tuple((codes, tuple(c)) for codes, c in by_codes.items()), tuple(items),
                         weights_key(wh)), side, human, wh)                # the same baseline for every sample
    s, ps = side(silicon, ws)
    nh, ns = h["kish"], s["kish"]
    mh, ms, sh, ss = h["mean"], s["mean"], h["sd"], s["sd"]        # NaN where a source has no answer
    d = pooled_d(s, h)

    def interval(mean, sd, n):
        ok = (n > 1) & np.isfinite(sd)
        with np.errstate(invalid="ignore"):
            half = stats.t.ppf(0.975, np.where(ok, n - 1, 1.0)) * sd / np.sqrt(np.where(ok, n, 1.0))
        return np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        se = np.sqrt((ns + nh) / (ns * nh) + d ** 2 / (2 * (ns + nh)))
    d_ok = np.isfinite(d) & (np.minimum(ns, nh) > 1)
    table = {"n_human": nh, "n_silicon": ns, "mean_human": mh, "mean_silicon": ms}
    (table["mean_human_low"], table["mean_human_high"]), (table["mean_silicon_low"], table["mean_silicon_high"]) = (
        interval(mh, sh, nh), interval(ms, ss, ns))
    table.update({"sd_human": sh, "sd_silicon": ss, "mean_diff": ms - mh, "d": d,
                  "d_low": np.where(d_ok, d - Z_95 * se, np.nan), "d_high": np.where(d_ok, d + Z_95 * se, np.nan)})
    r, js = np.full(len(items), np.nan), np.full(len(items), np.nan)
    shares: dict[str, np.ndarray] = {}
    for codes, columns in by_codes.items():
        r[columns], js[columns] = distribution_distances(ph[codes], ps[codes])
        for source, p in (("human", ph[codes]), ("silicon", ps[codes])):
            for k, value in enumerate(codes):
                shares.setdefault(f"p_{source}_{value}", np.full(len(items), np.nan))[columns] = p[:, k]
    table.update({"representativeness": r, "js_distance": js})
    order = dict.fromkeys(f"p_{source}_{v}" for item in items for source in ("human", "silicon")
                          for v in options[item])               # the columns in the order the rows name them
    table.update({column: shares[column] for column in order})
    return pd.DataFrame(table, index=pd.Index(items, name="item"))
