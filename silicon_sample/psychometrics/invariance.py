"""Measurement invariance across groups, continuous (ML, MLR) or ordinal (WLSMV), with partial invariance.

Continuous items (ML, MLR; lavaan's ``group.equal``): configural; metric — loadings equal; scalar —
loadings and intercepts (latent means then free in all groups but the first); strict — loadings,
intercepts and residual variances. Fitted jointly over all groups by :mod:`.multigroup_ml`; MLR adds the
Yuan–Bentler scaled test and Huber–White errors (:mod:`.robust_ml`).

Ordinal items (WLSMV; semTools' ``measEq.syntax(parameterization = "theta", ID.fac = "std.lv",
ID.cat = "Wu.Estabrook.2016")`` fitted by lavaan's WLSMV): configural; thresholds; metric (thresholds +
loadings); scalar (+ intercepts); strict (+ residual variances). Identification: :mod:`.categorical_model`.

Nested tests (``delta_chisq``, ``delta_df``, ``p_delta_chisq``) as lavaan's ``lavTestLRT`` computes them:
the plain χ² difference (ML), ``satorra.bentler.2001`` (MLR), ``satorra.2000`` scaled and shifted
(WLSMV); see :mod:`.robust_tests`.

Decision (Chen, 2007): a level *fails* against the previous accepted level when ΔCFI ≤ −.010 and, in
addition, ΔRMSEA ≥ .015 or ΔSRMR ≥ .030 (metric and thresholds) / .010 (scalar, strict). Cut-offs are
configurable. ML uses cfi and rmsea; MLR and WLSMV their scaled versions (``cfi_scaled``,
``rmsea_scaled``); srmr for all.

Rows. Every level is reported as lavaan fits it, with all of its equality constraints (HS by school,
strict: 181.511 on 69 df). When a level fails and ``partial`` is on, the constraint with the largest
score test is released, one at a time, until the level holds (or none is left); that model is the row
``<level>_partial``. Released constraints stay released at later levels, which then appear twice: the
full level (compared with the previous full level, lavaan's ladder) and ``<level>_partial`` carrying the
released constraints (compared with the previous accepted row), ``freed`` listing them. At the WLSMV
thresholds level, an item's thresholds are released together, chosen by the largest drop in χ².

References: Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
Structural Equation Modeling, 14, 464–504. Byrne, Shavelson & Muthén (1989) on partial invariance.
Wu & Estabrook (2016), see :mod:`.categorical_model`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, SpecError
from . import dwls
from .categorical_model import CategoricalTable
from .estimator_choice import resolve_estimator
from .fit_indices import BASELINE_COLUMNS, ROBUST_COLUMNS, fit_table, mlr_indices
from .lavaan_syntax import parse
from .missing_ml import FimlModel, check_missing, missing_groups, missing_label
from .missing_robust import baseline_scaling_fiml, fiml_robust_indices, h1_trace, robust_fiml
from .moments import group_moments
from .multigroup_ml import MultiGroupModel, ParameterTable
from .ordinal_statistics import collapse_empty_categories, ordinal_moments
from .robust_ml import SaturatedParts, baseline_scaling, robust_ml
from .robust_tests import satorra_2000, satorra_bentler_2001

LEVELS = {
    "configural": frozenset(),
    "metric": frozenset({"loadings"}),
    "scalar": frozenset({"loadings", "intercepts"}),
    "strict": frozenset({"loadings", "intercepts", "residuals"}),
}
CATEGORICAL_LEVELS = {
    "configural": frozenset(),
    "thresholds": frozenset({"thresholds"}),
    "metric": frozenset({"thresholds", "loadings"}),
    "scalar": frozenset({"thresholds", "loadings", "intercepts"}),
    "strict": frozenset({"thresholds", "loadings", "intercepts", "residuals"}),
}
RELEASED_CLASS = {"thresholds": "thresholds", "metric": "loadings", "scalar": "intercepts", "strict": "residuals"}
CHEN_CUTOFFS = {"cfi": -0.010, "rmsea": 0.015, "srmr_metric": 0.030, "srmr": 0.010}
ESTIMATOR_NOTE = "ML: Likert items treated as continuous (normal likelihood, N not N-1)"
INDEX_COLUMNS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
                 "aic", "bic", "loglik"]
DELTA_COLUMNS = ["delta_chisq", "delta_df", "p_delta_chisq", "delta_cfi", "delta_rmsea", "delta_srmr"]


def estimator_label(estimator: str, parameterization: str = "theta") -> str:
    """What was fitted, in words, for the ``estimator`` column of every table."""
    if estimator == "MLR":
        return ("MLR: ML estimates, Huber-White SEs, Yuan-Bentler (Mplus) scaled test; Likert items treated as "
                "continuous (N not N-1)")
    if estimator == "WLSMV":
        return (f"WLSMV: DWLS on polychoric correlations and thresholds, {parameterization} parameterization, "
                "robust SEs, scaled-and-shifted test (N-1 per group)")
    return ESTIMATOR_NOTE


def check_identified(df: int, n_params: int, n_cases: int) -> None:
    """Refuse models with more parameters than moments or than cases.

    For WLSMV pass the parameters other than thresholds: each threshold comes from an item's marginal
    counts, as lavaan estimates it, and does not need a case of its own.
    """
    if df < 0:
        raise DataError("the model has more free parameters than the data's moments allow "
                        f"(df = {df})", where="model", fix="use more items per factor or fewer factors")
    if n_cases < n_params:
        raise DataError(f"{n_cases} complete cases, fewer than the model's {n_params} free parameters",
                        where="data", fix="collect more responses or fit a smaller model")


@dataclass
class _Level:
    """One fitted model of the ladder and what the next comparisons and releases need."""

    row: dict
    table: object
    fit: object
    theta: np.ndarray | None = None


class _Continuous:
    def __init__(self, mm, data, items, group, estimator):
        self.mm, self.estimator = mm, estimator
        self.moments = group_moments(data, items, group)
        if estimator == "MLR":
            frame = data[items + [group]].dropna()  # groups in order of first appearance, as group_moments
            arrays = [rows[items].to_numpy(float) for _, rows in frame.groupby(group, sort=False)]
            self.saturated = SaturatedParts(arrays, mean_structure=True)
            self.c_base, _ = baseline_scaling(self.saturated)

    def model(self, table: ParameterTable) -> MultiGroupModel:
        return MultiGroupModel(table, self.moments)

    def robust(self, mg, theta) -> tuple[float, dict]:
        """The MLR scaling factor and any robust indices computed otherwise than from it."""
        return robust_ml(mg, theta, self.saturated)["scaling_factor"], {}

    def fit(self, equal, released, start=None) -> _Level:
        table = ParameterTable(self.mm, len(self.moments), frozenset(equal) - {"thresholds"}, frozenset(released))
        mg = self.model(table)
        check_identified(mg.df(), table.n_params, mg.n_total)
        theta = mg.fit(start)
        chisq = mg.n_total * mg.objective(theta, gradient=False)
        row = fit_table(chisq, mg.df(), table.n_params, mg.loglik(theta), self.moments,
                        [mg.implied(theta, g) for g in range(len(self.moments))], mean_structure=True,
                        baseline=mg.baseline() if isinstance(mg, FimlModel) else None)
        if self.estimator == "MLR":
            scaling, extra = self.robust(mg, theta)
            row.update(mlr_indices(chisq, mg.df(), scaling, row["baseline_chisq"], row["baseline_df"], self.c_base,
                                   mg.n_total, len(self.moments)))
            row.update(extra)
        return _Level(row, table, mg, theta)

    def difference(self, restricted: _Level, free: _Level) -> dict:
        r, f = restricted.row, free.row
        if self.estimator == "MLR":
            return satorra_bentler_2001(r["chisq"], r["df"], r["scaling_factor"], f["chisq"], f["df"],
                                        f["scaling_factor"])
        d_chisq, d_df = r["chisq"] - f["chisq"], r["df"] - f["df"]
        return {"delta_chisq": d_chisq, "delta_df": d_df,
                "p_delta_chisq": float(stats.chi2.sf(d_chisq, d_df)) if d_df > 0 else np.nan}

    def candidates(self, level: _Level, kind: str) -> dict[str, str]:
        labels = [e.label for e in level.table.entries if e.kind == kind]
        chosen = {lab: lab for lab in dict.fromkeys(labels) if lab in level.table.constrained_labels()}
        # marker loadings are fixed in every group; a factor's mean needs one equal intercept
        return keep_one_per_factor(chosen, self.mm) if kind == "intercepts" else chosen

    def score(self, level: _Level, label: str, equal, released) -> float:
        return level.fit.score_test(level.theta, label)[0]


class _Fiml(_Continuous):
    """ML and MLR over every respondent with an answer (lavaan's missing = "ml"; :mod:`.missing_ml`)."""

    def __init__(self, mm, data, items, group, estimator):
        self.mm, self.estimator = mm, estimator
        self.groups = missing_groups(data, items, group)
        self.moments = [g.h1 for g in self.groups]
        if estimator == "MLR":
            self.traces = [h1_trace(g) for g in self.groups]
            self.c_base, _ = baseline_scaling_fiml(self.groups, self.traces)

    def model(self, table: ParameterTable) -> FimlModel:
        return FimlModel(table, self.groups)

    def robust(self, mg, theta) -> tuple[float, dict]:
        return robust_fiml(mg, theta, self.traces)["scaling_factor"], fiml_robust_indices(mg, theta)

    def counts(self) -> dict:
        answers = sum(g.missing_answers for g in self.groups)
        left = sum(g.rows_left_out for g in self.groups)
        n = sum(g.h1.n for g in self.groups)
        return {"n_missing_answers": answers, "n_left_out": left, "missing": missing_label("ml", n, answers, left)}


class _Ordinal:
    def __init__(self, mm, data, items, group, missing="listwise"):
        self.mm = mm
        self.moments = ordinal_moments(data, items, group, missing=missing)
        self.n_thresholds = [len(t) for t in self.moments[0].thresholds]
        self.baseline = dwls.baseline_fit(self.moments)

    def _table(self, equal, released):
        expanded = set(released)
        for label in released:
            if label.endswith("|t"):  # an item's thresholds, released together
                item = label[:-2]
                k = self.n_thresholds[self.mm.observed.index(item)]
                expanded |= {f"{item}|t{j + 1}" for j in range(k)}
        return CategoricalTable(self.mm, self.n_thresholds, n_groups=len(self.moments), parameterization="theta",
                                identification="wu_estabrook", equal=frozenset(equal), released=frozenset(expanded))

    def fit(self, equal, released, start=None) -> _Level:
        table = self._table(equal, released)
        n_stats = sum(m.statistics.size for m in self.moments)
        check_identified(n_stats - table.n_params, table.n_structural, sum(m.n for m in self.moments))
        fit = dwls.fit_dwls(table, self.moments)
        return _Level(dwls.fit_row(fit, self.baseline), table, fit, fit.theta)

    def difference(self, restricted: _Level, free: _Level) -> dict:
        f = free.fit
        return satorra_2000(restricted.fit.chisq, restricted.fit.df, f.chisq, f.df, f.deltas, restricted.fit.deltas,
                            f.weights, [m.gamma for m in self.moments], f.fractions)

    def candidates(self, level: _Level, kind: str) -> dict[str, str]:
        table = level.table
        constrained = set(table.constrained_labels())
        items = self.mm.observed
        free_thresholds = {e[6].split("|")[0] for e in table.entries
                           if e[7] == "thresholds" and e[6] not in constrained}
        if kind == "thresholds":
            chosen = [i for i in items if i not in free_thresholds]
            return {f"{item}|t": f"{item}|t" for item in chosen}
        if kind == "loadings":   # std.lv: a factor's variance beyond the first group needs one equal loading
            labels = [e[6] for e in table.entries if e[7] == kind]
            return keep_one_per_factor({lab: lab for lab in dict.fromkeys(labels) if lab in constrained}, self.mm)
        # intercepts and residual variances are fixed (0 and 1) in every group when constrained equal
        if kind == "intercepts":
            labels = [f"{i}~1" for i in items if i not in free_thresholds]
        else:   # a binary item's residual variance is free only beside an equal intercept
            labels = [f"{i}~~{i}" for i, k in zip(items, self.n_thresholds)
                      if i not in free_thresholds and (k >= 2 or f"{i}~1" not in table.released)]
        chosen = {lab: lab for lab in labels if lab not in table.released}
        return keep_one_per_factor(chosen, self.mm) if kind == "intercepts" else chosen

    def score(self, level: _Level, label: str, equal, released) -> float:
        if label.endswith("|t"):
            return level.row["chisq"] - self.fit(equal, list(released) + [label]).row["chisq"]
        return dwls.score_statistic(level.fit, self._table(equal, list(released) + [label]))


def _listwise_counts(data: pd.DataFrame, items: list[str], group: str, n) -> dict:
    rows = int(data[group].notna().sum())
    left = rows - int(n)
    return {"n_missing_answers": 0, "n_left_out": left, "missing": missing_label("listwise", int(n), 0, left)}


def _pairwise_counts(frame: pd.DataFrame, items: list[str]) -> dict:
    values = frame[items]
    kept = values.notna().any(axis=1)
    answers, left = int(values[kept].isna().sum().sum()), int((~kept).sum())
    return {"n_missing_answers": answers, "n_left_out": left,
            "missing": missing_label("pairwise", int(kept.sum()), answers, left)}


def keep_one_per_factor(candidates: dict[str, str], mm) -> dict[str, str]:
    """The candidates for release less each factor's last one: a factor keeps one equal loading or
    intercept, which identifies its variance or mean in the other groups (releasing all would leave the
    partial model unidentified)."""
    factor_of: dict[str, str] = {}
    for factor, items in mm.indicators.items():
        for item in items:
            factor_of.setdefault(item, factor)

    def factor(label: str) -> str:
        return label.split("=~")[0] if "=~" in label else factor_of[label.split("~")[0]]

    count = Counter(factor(label) for label in candidates)
    return {label: value for label, value in candidates.items() if count[factor(label)] > 1}


def _indices(estimator: str) -> tuple[str, str]:
    return ("cfi", "rmsea") if estimator == "ML" else ("cfi_scaled", "rmsea_scaled")


def _compare(engine, estimator, restricted: _Level, free: _Level, level: str, cutoffs: dict) -> dict:
    if restricted.row["df"] < free.row["df"]:
        # Not nested in that order (binary items at the scalar level of Wu & Estabrook: fixing the
        # intercepts frees the residual variances). lavTestLRT orders models by df, so the test is the
        # previous level against this one; its statistic can be negative (p = 1).
        out = engine.difference(free, restricted)
    else:
        out = engine.difference(restricted, free)
    cfi_name, rmsea_name = _indices(estimator)
    row, previous = restricted.row, free.row
    out.update(delta_cfi=row[cfi_name] - previous[cfi_name], delta_rmsea=row[rmsea_name] - previous[rmsea_name],
               delta_srmr=row["srmr"] - previous["srmr"])
    srmr_cut = cutoffs["srmr_metric"] if level in ("metric", "thresholds") else cutoffs["srmr"]
    fails = out["delta_cfi"] <= cutoffs["cfi"] and (out["delta_rmsea"] >= cutoffs["rmsea"]
                                                   or out["delta_srmr"] >= srmr_cut)
    out["decision"] = "fails" if fails else "holds"
    return out


def measurement_invariance(data: pd.DataFrame, model: str, group: str, levels=None, cutoffs: dict | None = None,
                           partial: bool = True, estimator: str | None = None, ordered: list[str] | None = None,
                           collapse_empty: bool = False, n_options=None, missing: str = "listwise") -> pd.DataFrame:
    """Test measurement invariance of a CFA model across the groups of ``group``.

    Parameters
    ----------
    data : DataFrame
        Item answers (numeric) and the grouping column; rows with a missing item are left out (listwise).
    model : str
        lavaan measurement syntax, e.g. ``"visual =~ x1 + x2 + x3; ..."``.
    group : str
        Column naming the group of each row. Groups are taken in order of first appearance (as lavaan
        does); the first is the reference for latent means.
    levels : sequence of str, optional
        An ordered subset of configural, metric, scalar, strict (ML, MLR) or configural, thresholds,
        metric, scalar, strict (WLSMV); default all of them.
    cutoffs : dict, optional
        Chen's cut-offs: ``cfi`` (−.010), ``rmsea`` (.015), ``srmr_metric`` (.030), ``srmr`` (.010).
    partial : bool
        Release constraints one at a time (largest score test first) when a level fails.
    estimator : {"ML", "MLR", "WLSMV"}, optional
        Default: chosen from the data (:func:`~.estimator_choice.choose_estimator`, per group).
    ordered : list of str, optional
        The ordinal items (WLSMV; all items when omitted).
    collapse_empty : bool
        WLSMV: when a group leaves an option of an item empty, merge it into its neighbour in all groups
        (listed in the ``collapsed`` column) instead of refusing with the item, group and option.
    n_options : int or dict, optional
        Response options per item, for the default choice of estimator.
    missing : {"listwise", "ml", "pairwise"}
        As in :func:`~.cfa.cfa`: ``ml`` fits every level by full-information ML (ML, MLR) over every respondent
        with an answer; ``pairwise`` (WLSMV) takes each pair's answers. The counts are in ``n``,
        ``n_missing_answers``, ``n_left_out`` and ``missing``.

    Returns
    -------
    DataFrame indexed by level (``scalar_partial`` etc. for partial models) with chisq, df, pvalue,
    cfi, tli, rmsea (+ 90% CI), srmr, aic, bic, loglik, lavaan's robust measures (``chisq_scaled`` …
    ``rmsea_robust``, NaN for ML); against the previous level delta_chisq, delta_df, p_delta_chisq,
    delta_cfi, delta_rmsea, delta_srmr and decision; ``freed`` lists released constraints with their
    score statistics; ``estimator`` states the estimator and conventions; ``collapsed`` merged options.

    Examples
    --------
    >>> import semopy
    >>> from silicon_sample.psychometrics import measurement_invariance
    >>> hs = semopy.examples.holzinger39.get_data()
    >>> mi = measurement_invariance(hs, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; "
    ...                                 "speed =~ x7 + x8 + x9", group="school", estimator="ML")
    >>> mi.loc["scalar", ["chisq", "df"]].tolist()   # lavaan: 164.103 on 60 df
    [164.10283092..., 60]
    """
    cutoffs = {**CHEN_CUTOFFS, **(cutoffs or {})}
    mm = parse(model)
    items = mm.observed
    absent = [c for c in items + [group] if c not in data.columns]
    if absent:
        raise DataError(f"column(s) {', '.join(absent)} not in the data", where="data",
                        fix=f"available: {', '.join(map(str, data.columns))}")
    frame = data[items + [group]]
    frame = frame[frame[group].notna()]
    listwise = frame.dropna()
    if frame[group].nunique() < 2:
        raise SpecError(f"column {group!r} has only one group", where="group",
                        fix="measurement invariance needs at least two groups")
    estimator, _, reason = resolve_estimator(estimator, listwise, items, group, ordered, n_options)
    missing = check_missing(missing, estimator)
    if missing == "listwise":
        frame = listwise
    ladder = CATEGORICAL_LEVELS if estimator == "WLSMV" else LEVELS
    levels = list(ladder) if levels is None else list(levels)
    unknown = [lev for lev in levels if lev not in ladder]
    if unknown or levels != sorted(levels, key=list(ladder).index):
        raise SpecError(f"levels must be an ordered subset of {list(ladder)} with {estimator}, got {levels}",
                        where="levels")
    collapsed: list[str] = []
    if estimator == "WLSMV":
        if collapse_empty:
            frame, collapsed = collapse_empty_categories(frame, items, group)
        engine = _Ordinal(mm, frame, items, group, missing)
    elif missing == "ml":
        engine = _Fiml(mm, frame, items, group, estimator)
    else:
        engine = _Continuous(mm, frame, items, group, estimator)

    rows: dict[str, dict] = {}
    previous_full = previous_accepted = None
    released: list[str] = []
    freed_notes: list[str] = []
    for level in levels:
        equal = ladder[level]
        full = engine.fit(equal, [])
        full.row.update(freed="", decision="reference")
        if previous_full is not None:
            full.row.update(_compare(engine, estimator, full, previous_full, level, cutoffs))
        rows[level] = full.row
        current = full
        if released:
            current = engine.fit(equal, released)
            current.row.update(_compare(engine, estimator, current, previous_accepted, level, cutoffs))
            current.row["freed"] = ", ".join(freed_notes)
            rows[f"{level}_partial"] = current.row
        if (previous_accepted is not None and current.row["decision"] == "fails" and partial
                and level in RELEASED_CLASS):
            while current.row["decision"] == "fails":
                candidates = engine.candidates(current, RELEASED_CLASS[level])
                if not candidates:
                    break
                scores = {lab: engine.score(current, lab, equal, released) for lab in candidates}
                best = max(scores, key=scores.get)
                released.append(best)
                freed_notes.append(f"{best} ({scores[best]:.2f})")
                current = engine.fit(equal, released)
                current.row.update(_compare(engine, estimator, current, previous_accepted, level, cutoffs))
                current.row["freed"] = ", ".join(freed_notes)
            current.row["decision"] = "partial" if current.row["decision"] == "holds" else "fails"
            rows[f"{level}_partial"] = current.row
        elif released and f"{level}_partial" in rows and current.row["decision"] == "holds":
            current.row["decision"] = "partial"
        previous_full, previous_accepted = full, current
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "level"
    table["estimator"] = estimator_label(estimator) + ("" if reason == "chosen by the user" else f"; chosen: {reason}")
    table["collapsed"] = "; ".join(collapsed)
    counts = (engine.counts() if isinstance(engine, _Fiml) else _pairwise_counts(frame, items)
              if missing == "pairwise" else _listwise_counts(data, items, group, table["n"].iloc[0]))
    for name, value in counts.items():
        table[name] = value
    columns = (INDEX_COLUMNS + ROBUST_COLUMNS + DELTA_COLUMNS + ["decision", "freed"] + BASELINE_COLUMNS
               + ["n", "n_missing_answers", "n_left_out", "estimator", "missing", "collapsed"])
    return table.reindex(columns=columns)
