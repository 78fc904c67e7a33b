"""What the CLI prints of comparison tables and rankings: the columns worth reading in a terminal.

The CSV files written with ``-o`` have every column; these views only choose and round.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from ..tidy.results import PAIR_COLUMNS
from .readable import estimate_with_interval, readable_table

COMPARISON_COLUMNS = {
    "anchors": ["n_silicon", "value", "ci_low", "ci_high", "best_floor", "best_floor_is", "marginal_floor", "ceiling",
                "normalized", "normalized_low", "normalized_high"],
    "items": ["n_silicon", "mean_human", "mean_silicon", "mean_silicon_low", "mean_silicon_high", "d", "d_low",
              "d_high", "representativeness",
              "representativeness_ci_low", "representativeness_ci_high", "representativeness_normalized"],
    "scales": ["n_silicon", "mean_human", "mean_human_low", "mean_human_high", "mean_silicon", "mean_silicon_low",
               "mean_silicon_high", "d", "d_low", "d_high", "alpha_human", "alpha_silicon", "estimator", "note"],
    "structure": ["correlation_srmr", "congruence", "reading", "estimator"],
    "invariance": ["estimator", "chisq", "df", "cfi", "rmsea", "srmr", "decision", "highest_level", "n",
                   "missing_share_human", "missing_share_silicon", "note"],
    "missing": ["cells", "refused_rate", "invalid_rate", "dont_know_rate", "failed_rate", "missing_rate_silicon",
                "missing_rate_human"],
    "nonresponse": ["cells", "refused_rate", "invalid_rate", "failed_rate", "dont_know_rate", "p_value"],
    "order_effects": ["n_1", "mean_1", "n_2", "mean_2", "n_3", "mean_3", "last_minus_first", "last_minus_first_low",
                      "last_minus_first_high"],
    "robustness": ["n_perturbations", "spread", "sd", "furthest_from_original"],
    "response_styles": ["n_silicon", "silicon", "human", "d", "d_low", "d_high", "flag"],
    "variance": ["n_silicon", "var_silicon", "var_human", "ratio", "ratio_low", "ratio_high", "compressed"],
    "retest": ["n_respondents", "replicates", "icc", "icc_low", "icc_high"],
    "conditioning": ["n_silicon", "distance_persona", "distance_control", "improvement", "closer"],
    "cue_consistency": ["effects", "r_explicit_name"],
    "drift": ["n", "mean_a", "mean_b", "difference", "ci_low", "ci_high", "drifted"],
    "numeric": ["n_silicon", "mean_human", "mean_silicon", "mean_silicon_low", "mean_silicon_high", "median_human",
                "median_silicon", "sd_ratio", "sd_ratio_low", "sd_ratio_high", "w1", "w1_low", "w1_high",
                "w1_floor_uniform", "w1_ceiling", "w1_normalized", "w1_subgroups_normalized", "ks",
                "heaping_10_human", "heaping_10_silicon"],
    "knowledge": ["n_silicon", "correct_human", "correct_silicon", "correct_silicon_low", "correct_silicon_high",
                  "diff", "diff_low", "diff_high"],
    "selections": ["n_silicon", "rate_human", "rate_silicon", "rate_silicon_low", "rate_silicon_high", "diff",
                   "mean_human", "mean_silicon", "distance", "floor_random", "ceiling", "normalized"],
    "ranks": ["n_silicon", "ranked_human", "ranked_silicon", "mean_place_human", "mean_place_silicon",
              "mean_place_silicon_low", "mean_place_silicon_high", "distance", "floor_random", "ceiling",
              "normalized"],
}
INTERVAL_NOTES = {
    "structure": "intervals: none per scale (each would refit a factor model per resample); the mean congruence "
                 "and the SRMR have theirs in `anchors`. Loadings: polychoric where the estimator is WLSMV",
    "invariance": "intervals: RMSEA's 90% CI in the CSV; the level reached has none (every level would be refitted "
                  "per resample). Under MLR and WLSMV chisq, cfi and rmsea are the scaled ones the decisions read "
                  "(the CSV has the unscaled and robust ones too)",
    "scales": "alpha: ordinal alpha (polychoric) where the estimator is WLSMV, raw alpha otherwise; the CSV has "
              "both, with omega; d's interval is shown",
    "subgroups": "intervals: d per subgroup and outcome in the CSV (d_low, d_high); the means shown here have none "
                 "— subgroup representativeness has its interval in `anchors`",
    "patterns": "intervals: each contrast's d in the CSV; sign and size agreement and r(d) have theirs in `anchors`",
    "nonresponse": "intervals: none for the rates; the chi-square test (p_value) says whether they differ",
    "conditioning": "intervals: none per subgroup (distances of small groups); the share moved closer is in rank",
    "cue_consistency": "intervals: none (r over the subgroup effects; `effects` is its n)",
    "order_effects": "means by third of the questionnaire where the item was shown; each mean's 95% t interval is in "
                     "the CSV (mean_<t>_low, _high); the difference last - first has its Welch interval here",
    "numeric": "W1: Wasserstein-1 distance in the item's units (bootstrap interval); floor: answers uniform over "
               "the range; ceiling: n_silicon humans against the other humans; the CSV has d, KS and heaping at 5 "
               "and 50",
    "robustness": "intervals: none for the spread (max - min over a handful of perturbations); each value under "
                  "each perturbation, with the pair's intervals, is in the items, scales and anchors tables",
}
"""What the CLI prints under a table whose figures have no interval there: why, and where one is."""

RANKING_SHOWN = ["n_humans", "n_silicon", "score", "score_low", "score_high", "tie_group", "median_rho", "coverage_ppi",
                 "coverage_classical", "flagged", "levels", "structure", "subgroups",
                 "representativeness", "mean_abs_d", "invariance", "congruence", "sign_agreement", "variance_ratio",
                 "icc", "refusal_rate", "score_spread", "cells_pending"]


SHOWN_BY_DEFAULT = ("scales",)
"""The tables ``compare`` prints after its verdict (``items`` when the instrument scores no scale), with
:data:`ALSO_SHOWN` where the instrument has such items; ``--all`` prints every table, ``-o`` writes every one."""
ALSO_SHOWN = ("numeric", "knowledge", "selections", "ranks")
FAMILY_WORDS = {"levels": "levels (item and scale means, answer distributions)",
                "structure": "structure (correlations, factor loadings)",
                "subgroups": "subgroups (differences between groups of respondents)"}


def _interval(low: float, high: float) -> str:
    return f"[{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else "(no interval)"


def verdict_lines(tables: dict[str, pd.DataFrame], baseline_label: str) -> list[str]:
    """The verdict ``compare`` prints first: per model–persona pair, each family's normalized score with its
    interval and the floor it is measured against (or why there is none), then the pair's one-line reading
    (:func:`silicon_sample.comparison.ranking.reading`)."""
    from ..comparison.ranking import rank_pairs

    anchors = tables.get("anchors")
    if anchors is None or anchors.empty:
        return numeric_verdict_lines(tables.get("numeric"), baseline_label)
    readings = rank_pairs(tables)["reading"] if "items" in tables else pd.Series(dtype=object)
    lines = [f"verdict against {baseline_label} (normalized: 0 = the best floor — uniform or marginal answers, "
             "whichever comes closer to the humans — and 1 = another human sample of this size; 95% intervals):"]
    pair = [n for n in anchors.index.names if n != "figure"]
    for key, block in anchors.groupby(level=pair, sort=False):
        block = block.droplevel(pair)
        n = int(block["n_silicon"].max())
        lines.append(f"  {' / '.join(map(str, key if isinstance(key, tuple) else (key,)))} ({n} personas):")
        for family in FAMILY_WORDS:
            if family not in block.index:
                continue
            row = block.loc[family]
            if np.isfinite(row["normalized"]):
                members = block[(block["family"] == family) & (block.index != family)]
                floors = " and ".join(dict.fromkeys(f for f in members["best_floor_is"]
                                                    if f in ("uniform", "marginal", "shuffled")))
                lines.append(f"    {FAMILY_WORDS[family]}: {row['normalized']:.2f} "
                             f"{_interval(row['normalized_low'], row['normalized_high'])}"
                             + (f", against the {floors} floor{'s' if ' and ' in floors else ''}" if floors else ""))
            else:
                why = row["note"] if isinstance(row["note"], str) and row["note"] else "no figure could be computed"
                lines.append(f"    {FAMILY_WORDS[family]}: not scored — {why}")
        if key in readings.index:
            lines.append(f"    reading: {readings.loc[key]}")
    lines += numeric_verdict_lines(tables.get("numeric"), None)
    return [part for line in lines for part in _wrapped(line)]


def numeric_verdict_lines(table: pd.DataFrame | None, baseline_label: str | None) -> list[str]:
    """Per pair and numeric item: the Wasserstein-1 distance normalized between the uniform floor (0) and the
    split-half human ceiling (1), with the interval its bootstrap interval gives, and whether the answers are
    compressed (the SD ratio's interval below 1)."""
    if table is None or table.empty:
        return []
    lines = [f"verdict against {baseline_label} (numeric items: the distance to the human answers normalized, 0 = "
             "answers uniform over the range, 1 = another human sample of this size; 95% intervals):"
             if baseline_label else "  numeric items (0 = uniform answers, 1 = another human sample of this size):"]
    pair = [n for n in table.index.names if n != "item"]
    for key, block in table.groupby(level=pair, sort=False):
        if baseline_label:
            lines.append(f"  {' / '.join(map(str, key))} ({int(block['n_silicon'].max())} answers per item):")
        for (*_, item), row in block.iterrows():
            span = row["w1_floor_uniform"] - row["w1_ceiling"]
            low, high = ((row["w1_floor_uniform"] - row["w1_high"]) / span,
                         (row["w1_floor_uniform"] - row["w1_low"]) / span) if span > 0 else (np.nan, np.nan)
            compressed = " — compressed (SD ratio below 1)" if row["sd_ratio_high"] < 1 else ""
            if np.isfinite(row.get("w1_subgroups_normalized", np.nan)):
                compressed += (f"; within {int(row['n_subgroups'])} subgroups {row['w1_subgroups_normalized']:.2f} "
                               "against the marginal floor (answers that ignore the persona)")
            lines.append(f"    {item}: {row['w1_normalized']:.2f} {_interval(low, high)} (W1 {row['w1']:.1f} "
                         f"against the uniform floor's {row['w1_floor_uniform']:.1f}; means {row['mean_silicon']:.1f} "
                         f"silicon, {row['mean_human']:.1f} human){compressed}")
    return [part for line in lines for part in _wrapped(line)]


def _wrapped(line: str, width: int = 118) -> list[str]:
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return textwrap.wrap(line, width=width, subsequent_indent=indent, break_on_hyphens=False) or [line]


def compact_view(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The default view of the scales (or items) table: each mean and d with its 95% interval in one cell,
    the alphas to read and the notes."""
    view = comparison_view(name, table)
    out = pd.DataFrame(index=view.index)
    out["n"] = view["n_silicon"]
    out["human"] = view["mean_human"].map(lambda v: f"{v:.2f}")
    out["silicon [95% CI]"] = [f"{m:.2f} {_interval(lo, hi)}" for m, lo, hi in
                               zip(view["mean_silicon"], view["mean_silicon_low"], view["mean_silicon_high"])]
    out["d [95% CI]"] = [f"{d:.2f} {_interval(lo, hi)}" if np.isfinite(d) else "—" for d, lo, hi in
                         zip(view["d"], view["d_low"], view["d_high"])]
    for column in ("alpha_human", "alpha_silicon", "estimator"):
        if column in view.columns:
            out[column] = view[column]
    return out


def note_lines(table: pd.DataFrame) -> list[str]:
    """A table's notes (why a figure is missing, negative or impossible) as lines under it, one per row."""
    if "note" not in table.columns:
        return []
    lines = []
    for key, note in table["note"].items():
        if isinstance(note, str) and note:
            lines += _wrapped(f"  {key[-1] if isinstance(key, tuple) else key}: {note}")
    return (["notes:"] + lines) if lines else []


def missing_lines(table: pd.DataFrame | None) -> list[str]:
    """The missing answers the fits took: the silicon's share of cells (and its worst item) and the humans'
    blanks (the ``missing`` table of ``compare``), wrapped."""
    if table is None or not len(table):
        return []
    silicon = table["missing_rate_silicon"]
    worst = silicon.idxmax()
    return _wrapped(f"missing answers (refused, invalid, \"Don't know\", failed): {silicon.mean():.1%} of silicon "
                    f"cells (most: {worst[-1]} {silicon.max():.1%}), {table['missing_rate_human'].mean():.1%} of human "
                    "answers blank; the invariance models use every respondent with an answer (FIML / pairwise) "
                    "unless --missing listwise; per item in missing.csv with -o")


def nonresponse_line(table: pd.DataFrame) -> str | None:
    """One line when no group had a refusal, invalid answer, failure or "don't know" (the table is all zeros)."""
    rates = [c for c in ("refused_rate", "invalid_rate", "failed_rate", "dont_know_rate") if c in table.columns]
    if rates and (table[rates].fillna(0) == 0).all().all():
        return (f"nonresponse: no refusal, invalid answer, failure or \"don't know\" in any of the "
                f"{len(table)} groups (the table is in nonresponse.csv with -o)")
    return None


def comparison_view(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The columns of one comparison table worth reading in a terminal, rounded to 3 digits."""
    pair = list(PAIR_COLUMNS)
    if name == "subgroups":
        items_only = table[table["representativeness"].notna()]
        view = (items_only if len(items_only) else table).groupby(pair + ["attribute", "category"], sort=False).agg(
            n_silicon=("n_silicon", "max"), mean_abs_d=("d", lambda d: d.abs().mean()),
            representativeness=("representativeness", "mean"))
        return readable_table(view.dropna(axis=1, how="all"))
    if name == "patterns":
        from ..comparison.subgroups import pattern_summary

        return readable_table(pd.DataFrame({key: pattern_summary(t) for key, t in table.groupby(pair, sort=False)}).T)
    if name in ("invariance", "scales", "structure") and "estimator" in table.columns:
        table = _as_read(name, table)
    return readable_table(table[[c for c in COMPARISON_COLUMNS[name] if c in table.columns]])


def _as_read(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The figures each row's estimator says to read, under the plain column names, and its short name."""
    from ..psychometrics import estimator_name

    table = table.copy()
    short = table["estimator"].map(estimator_name)
    robust = short.isin(["MLR", "WLSMV"])
    if name == "invariance":
        for column in ("chisq", "cfi", "rmsea"):
            if f"{column}_scaled" in table.columns:
                table[column] = table[column].where(~robust, table[f"{column}_scaled"])
    elif name == "scales":
        ordinal = short == "WLSMV"
        for source in ("human", "silicon"):
            if f"ordinal_alpha_{source}" in table.columns:
                table[f"alpha_{source}"] = table[f"alpha_{source}"].where(~ordinal, table[f"ordinal_alpha_{source}"])
    table["estimator"] = short
    return table


def ranking_view(table: pd.DataFrame) -> pd.DataFrame:
    """The ranking's main columns (the reading is printed line by line after it; the CSV has every column)."""
    return readable_table(table[[c for c in RANKING_SHOWN if c in table.columns]])


def bench_view(figures: dict) -> str:
    """The bench's figures as lines a person reads: each rate beside its ceiling and their ratio."""
    lines = ["hosted (loopback OpenAI-compatible server, fixed delay per call):"]
    for row in figures["hosted"]:
        lines.append(
            f"  {row['delay_s']:g} s per call, {row['concurrency']} in flight: ceiling (bare AsyncOpenAI loop) "
            f"{row['ceiling_calls_per_s']:.0f} calls/s; ours {row['distribution_calls_per_s']:.0f} (distribution, "
            f"ratio {row['ratio_distribution']:.2f}), {row['sample_calls_per_s']:.0f} (sample, ratio "
            f"{row['ratio_sample']:.2f}); most in flight {row['max_in_flight']}; {row['calls']} calls; "
            f"ideal {row['ideal_calls_per_s']:.0f} calls/s (concurrency ÷ delay: client and server share this "
            f"machine's cores)")
    lines.append(
        f"embedded model: distribution {figures['distribution_items_per_s']:.1f} items/s, sample "
        f"{figures['sample_items_per_s']:.1f} items/s; limit {figures['limit_items_per_s']:.1f} items/s "
        f"(forward pass {figures['forward_tokens_per_s']:.0f} tokens/s ÷ "
        f"{figures['prompt_tokens_per_response']:.0f} tokens evaluated per answer); distribution at "
        f"{figures['distribution_ratio_to_limit']:.2f} of the limit")
    if "thermometer_items_per_s" in figures:
        lines.append(f"embedded model, a 0-100 thermometer in distribution mode (all 101 values scored, "
                     f"{figures['thermometer_trie_nodes']} trie nodes): {figures['thermometer_items_per_s']:.2f} "
                     f"items/s against its limit of {figures['thermometer_limit_items_per_s']:.2f} "
                     f"({figures['thermometer_ratio_to_limit']:.2f} of it), beside "
                     f"{figures['distribution_items_per_s']:.1f} items/s for single-choice items")
    lines.append(f"embedded model beside one other busy process: {figures['shared_items_per_s']:.1f} items/s with "
                 f"{figures['shared_threads']} thread(s), {figures['shared_ratio']:.2f} of its solo rate")
    lines.append(f"peak RSS {figures['peak_rss_mb']:.0f} MB")
    if "memory_calls" in figures:
        lines.append(f"memory: a {figures['memory_calls']}-call run held {figures['rss_mb_at_10_percent']:.0f} MB "
                     f"at 10 % and {figures['rss_mb_at_100_percent']:.0f} MB at 100 % of its calls")
    if "load_calls" in figures:
        lines.append(f"load test: {figures['load_calls']} calls against a server failing 8 % of them "
                     f"(served: {figures['load_faults_served']}): statuses {figures['load_statuses']}, "
                     f"{figures['load_pending']} pending, {figures['load_tracebacks']} tracebacks printed, exit "
                     f"{figures['load_exit_code']}; resident memory {figures['load_rss_mb_at_10_percent']:.0f} MB at "
                     f"10 % and {figures['load_rss_mb_at_100_percent']:.0f} MB at 100 %")
    for row in figures.get("design", []):
        lines.append(f"design: {row['personas']:,} personas ({row['cells']:,} cells) stored in {row['seconds']} s, "
                     f"peak memory {row['peak_rss_mb_before_design']:.0f} MB before the design, "
                     f"{row['peak_rss_mb']:.0f} MB after")
    if "dask_answers_per_s" in figures:
        lines.append(f"dask: {figures['dask_answers_per_s']:.1f} answers/s on a LocalCluster of "
                     f"{figures['dask_workers']} single-threaded workers "
                     f"({figures['dask_answers_per_s_per_worker']:.1f} per worker); ceiling "
                     f"{figures['dask_ceiling_answers_per_s']:.1f} (the workers x the embedded model's "
                     f"single-thread rate in this process, {figures['single_thread_items_per_s']:.1f}); ratio "
                     f"{figures['dask_ratio']:.2f}")
    if "million_answers" in figures:
        lines.append(f"run store: {figures['million_answers']:,} answers stored at "
                     f"{figures['store_insert_answers_per_s']:,.0f}/s (bare SQLite insert "
                     f"{figures['bare_insert_answers_per_s']:,.0f}/s, ratio {figures['store_insert_ratio']:.2f})")
        for shape in ("long", "wide"):
            for fmt in ("csv", "parquet"):
                key = f"export_{shape}_{fmt}"
                lines.append(f"  export {shape} {fmt}: {figures[key + '_seconds']:.1f} s, peak memory "
                             f"{figures[key + '_peak_rss_mb']:.0f} MB")
        lines.append(f"  compare --items-only: {figures['items_compare_seconds']:.1f} s, peak memory "
                     f"{figures['items_compare_peak_rss_mb']:.0f} MB")
    for name, row in figures.get("analysis", {}).items():
        design = {"pilot": "the pilot (100 personas x bfi25)",
                  "controls": "the controls replica (60 personas x 3 styles x bfi25)"}.get(name, name)
        ceiling = (f"lavaan + psych doing its fits {row['r_fits_s']:.1f} s; compare at {row['compare_ratio_to_r']:.2f} "
                   f"and rank at {row['rank_ratio_to_r']:.2f} of it" if row["r_fits_s"] else
                   f"no R ceiling: {row['r']}")
        lines.append(f"analysis, {design}, human-like answers against psych_bfi: compare {row['compare_s']:.1f} s "
                     f"(exit {row['compare_exit_code']}), rank {row['rank_s']:.1f} s (exit {row['rank_exit_code']}); "
                     f"{ceiling}")
    return "\n".join(lines)


def batch_view(batches: pd.DataFrame) -> str:
    """Each Batch API batch of a run: its state, its cells answered / returned to pending / still waiting."""
    lines = [f"batches ({len(batches)}):"]
    for row in batches.itertuples():
        counts = f"{row.answered} answered, {row.returned} returned, {row.waiting} waiting of {row.n_cells} cells"
        lines.append(f"  {row.model_id} {row.batch_id or '(file ' + row.input_file_id + ', not yet a batch)'}: "
                     f"{row.status}, {counts}; submitted {row.submitted_at}, polled {row.updated_at}"
                     + (f" — {row.note}" if isinstance(row.note, str) and row.note else ""))
    return "\n".join(lines)


def prompt_view(entry: dict) -> str:
    """One cell's request as sent (each message in full, the prefill, options and sampling settings) and,
    when it has one, its response: status, answer, probabilities or raw text, reason."""
    where = (f"persona {entry['persona_id']}, style {entry['persona_style']}, cue {entry['cue_type']}, model "
             f"{entry['model']}, {entry['instrument']} item {entry['item_id']}")
    if "replicate" in entry:
        where += f", replicate {entry['replicate']}, position {entry['position']}"
    lines = [f"cell {entry['cell_id']}" if "cell_id" in entry else "example prompt", f"  {where}",
             f"  mode {entry['mode']}, temperature {entry['temperature']}, seed {entry['seed']}, "
             + (f"answer: {entry['question']}" if entry.get("question") else
                f"options {', '.join(map(str, entry['options']))}")
             + (f", max_tokens {entry['max_tokens']}" if entry["mode"] == "sample" else "")]
    for message in entry["messages"]:
        lines.append(f"--- {message['role']} ---")
        lines.append(message["content"])
    if entry.get("prefill"):
        lines.append("--- assistant (prefill; the next token is read as the answer) ---")
        lines.append(entry["prefill"])
    if "response" not in entry:
        return "\n".join(lines)
    response = entry["response"]
    lines.append("--- response ---")
    if response is None:
        lines.append("pending: not answered yet")
        return "\n".join(lines)
    lines.append(f"status {response['status']}, answer {response['value']}"
                 + (f", reason: {response['reason']}" if response.get("reason") else ""))
    if response.get("probabilities"):
        lines.append("P(option): " + ", ".join(f"{k} {v:.3f}" for k, v in response["probabilities"].items())
                     + (f" (option mass {response['option_mass']:.3f})" if response.get("option_mass") is not None
                        else ""))
    if response.get("raw_output"):
        lines.append(f"raw output: {response['raw_output']}")
    return "\n".join(lines)


CALIBRATION_NOTE = ("PPI++: prediction-powered inference with power-tuned λ (Angelopoulos, Duchi & Zrnic 2023) via "
                    "ppi_py, beside the labelled humans alone; means and proportions: ppi_mean_ci; medians: "
                    "ppi_quantile_ci (λ = 1); differences: OLS coefficient of the category against the reference "
                    "(ppi_ols_ci; classical: the same with λ = 0). 95% normal intervals, SDs with divisor n "
                    "(ppi_py); weights rescaled to the sample size, no strata or clusters. ρ: correlation of a "
                    "human's answer with "
                    "the twin's; effective n = n·(humans' width / PPI++ width)², at the optimum n(n+N)/(n+(1−ρ²)N) "
                    "(Broska, Howes & van Loon 2025); gain = effective n − n.")
"""The conventions of every calibration table (terminal, report), said once."""


def calibration_view(table: pd.DataFrame, show_all: bool = False) -> pd.DataFrame:
    """One pair's calibration table as a person reads it: one line per estimate, PPI++ and the humans' own interval
    side by side (means, medians and subgroup differences; ``show_all``: option proportions too)."""
    estimands = table.index.get_level_values("estimand")
    rows = table if show_all else table[estimands.isin(["mean", "difference", "median"])]
    out = []
    for key, row in rows.iterrows():
        names = dict(zip(table.index.names, key))
        what = names["outcome"]
        if names["estimand"] == "proportion":
            what = f"{names['outcome']} = {names['option']}"
        elif names["estimand"] == "difference":
            what = f"{names['outcome']}: {names['category']} − {row['reference']}"
        ok = np.isfinite(row.get("estimate", np.nan))
        out.append({"estimate of": names["estimand"], "figure": what, "n": int(row["n_humans"]),
                    "N": int(row["n_silicon"]),
                    "PPI++": estimate_with_interval(row.get("estimate"), row.get("low"), row.get("high")),
                    "humans alone": estimate_with_interval(row.get("classical_estimate"), row.get("classical_low"),
                                                           row.get("classical_high")),
                    "ρ": round(row["rho"], 2) if ok else np.nan,
                    "effective n": round(row["effective_n"], 1) if ok else np.nan,
                    "gain": round(row["gain"], 1) if ok else np.nan,
                    "note": row["note"] if not ok else ""})
    view = pd.DataFrame(out)
    if len(view) and not view["note"].astype(bool).any():
        view = view.drop(columns="note")
    return view.set_index(["estimate of", "figure"]) if len(view) else view


def labelled_sample_line(row: pd.Series) -> str:
    """Who the labelled humans are and how many silicon personas are unlabelled, for a calibration's pair row."""
    if "unpaired_pilot" in row and pd.notna(row["unpaired_pilot"]):
        left = int(row["unpaired_pilot"])
        return (f"{int(row['n_humans'])} pilot respondents beside the personas of their profile"
                + (f" ({left} whose profile no persona has are left out)" if left else "")
                + f", {int(row['n_silicon'])} silicon personas")
    return f"{int(row['n_humans'])} humans beside their silicon twins, {int(row['n_silicon'])} other silicon personas"


def calibration_lines(tables: dict[str, pd.DataFrame], show_all: bool = False) -> list[str]:
    """What `calibrate` prints: per pair its reading, its validation and its estimates; then the plan."""
    pairs, table = tables["calibration_pairs"], tables["calibration"]
    pair_levels = list(pairs.index.names)
    lines = []
    for key, row in pairs.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        label = " / ".join(str(k) for k in key)
        lines += [f"{label}: {labelled_sample_line(row)}", f"  {row['reading']}"]
        if "coverage_ppi" in row and np.isfinite(row["coverage_ppi"]):
            lines += _wrapped(f"  validation over {int(row['validation_draws'])} labelled samples: the PPI++ "
                              f"intervals covered the full-population value {row['coverage_ppi']:.1%} of the time, "
                              f"the humans' own {row['coverage_classical']:.1%} (nominal "
                              f"{row['coverage_nominal']:.0%}, Monte Carlo error ±{row['coverage_mc_error']:.1%}); "
                              f"humans' / PPI++ interval width {row['mean_width_ratio']:.2f}"
                              + (" — FLAGGED: not ranked" if row["flagged"] else ""))
        mine = table.xs(key, level=pair_levels, drop_level=True) if len(pair_levels) else table
        lines += ["", calibration_view(mine, show_all).to_string(), ""]
    lines += _wrapped(CALIBRATION_NOTE)
    if not show_all:
        lines.append("option proportions: `--all` prints them; `-o DIR` writes every table")
    plan = tables.get("calibration_plan")
    if plan is not None and len(plan):
        shown = plan[["cost_silicon", "n_humans", "n_silicon", "cost", "effective_n", "width", "humans_only_n",
                      "humans_only_cost", "humans_only_width"]].round(3)
        lines += ["", "plan (per mean: the split with the narrowest interval, beside a study of humans only; "
                      "ppi_py.ppi_power):", shown.to_string()]
    return lines


PERSONA_EFFECTS_NOTE = ("Araujo & Roth (2025) design. Per persona: mean over replicates (t interval), or over a "
                        "scale's keyed items with one answer each; rates: share of the persona's cells (Wilson). "
                        "Variation: SD across personas / SD across control paraphrases (N − 1), 95% percentile "
                        "bootstrap resampling personas and controls; above 1 with its interval = beyond paraphrase "
                        "noise. Friedman χ² (scales: blocks = items) and Cochran's Q (rates: blocks = items × "
                        "replicates) among personas and among controls, separately. Refusals: category vs controls, "
                        "cluster bootstrap and permutation test over personas, Holm over categories. Agreement: "
                        "Kendall's τ-b between models, W across 3+, bootstrap over personas; regular personas only.")
"""The conventions of every persona-effects table (terminal, manifest), said once."""


def _p(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}"


def _of_pair(table: pd.DataFrame, pair_columns: list[str], key: tuple) -> pd.DataFrame:
    """The rows of one model–persona pair (an empty table, with no columns, stays as it is)."""
    if table.empty:
        return table
    return table[(table[pair_columns] == pd.Series(dict(zip(pair_columns, key)))).all(axis=1)]


def persona_effects_lines(tables: dict[str, pd.DataFrame], alpha: float = 0.05) -> list[str]:
    """What `personas` prints: per pair and outcome, the variation across personas against the control
    paraphrases and the within-subject tests; the refusal disparities; the agreement across models and the
    personas at the extremes for every model."""
    personas, variation = tables["personas"], tables["variation"]
    tests, refusals = tables["within_tests"], tables["refusals"]
    pair_columns = list(personas.columns[: personas.columns.get_loc("persona_id")])
    lines = []
    for key, block in personas.groupby(pair_columns, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        label = " / ".join(map(str, key))
        first = block.drop_duplicates("persona_id")
        groups = first["persona_group"].value_counts()
        lines.append(f"{label}: {int(groups.get('persona', 0))} personas in "
                     f"{first.loc[first['persona_group'] == 'persona', 'category'].nunique()} categories, "
                     f"{int(groups.get('control', 0))} control paraphrases"
                     + (", the empty persona" if groups.get("empty", 0) else ""))
        mine = _of_pair(variation, pair_columns, key)
        quiet = []            # outcomes within the noise that have no test of their own (single items): one line
        for outcome, rows in mine.groupby("outcome", sort=False):
            overall = rows[rows["category"] == "all personas"].iloc[0]
            if not np.isfinite(overall["ratio"]):
                if outcome not in ("refused", "invalid"):       # rates are read below, against the controls
                    lines.append(f"  {outcome}: no spread ratio (the control paraphrases do not vary, or there are "
                                 "fewer than two personas)")
                continue
            verdict = ("beyond paraphrase noise" if overall["beyond_noise"]
                       else "not beyond paraphrase noise")
            ratio = estimate_with_interval(overall["ratio"], overall["ci_low"], overall["ci_high"])
            own = _of_pair(tests[tests["outcome"] == outcome], pair_columns, key)
            beyond = rows[(rows["category"] != "all personas") & rows["beyond_noise"]]
            if not overall["beyond_noise"] and not len(beyond) and not np.isfinite(own["statistic"]).any():
                quiet.append(f"{outcome} {ratio}")
                continue
            lines += _wrapped(f"  {outcome}: the personas vary {ratio}"
                              f"× as much as the control paraphrases (SD {overall['sd_personas']:.3g} vs "
                              f"{overall['sd_controls']:.3g}): {verdict}")
            if len(beyond):
                lines += _wrapped("    categories beyond it: " + ", ".join(
                    f"{r['category']} ({r['ratio']:.2f}×)" for _, r in beyond.iterrows()))
            said = [f"{r['group']} {r['test']} {r['statistic']:.1f} (df {int(r['df'])}, {_p(r['p_value'])}, "
                    f"{int(r['n_blocks'])} blocks)" if np.isfinite(r["statistic"]) else f"{r['group']}: {r['note']}"
                    for _, r in own.iterrows()]
            if said:
                lines += _wrapped("    within-subject: " + "; ".join(said))
        if quiet:
            lines += _wrapped("  not beyond paraphrase noise, in no category (spread ratio [95% CI]; one answer per "
                              "persona, so no within-subject test): " + ", ".join(quiet))
        mine = _of_pair(refusals, pair_columns, key)
        for outcome, rows in (mine.groupby("outcome", sort=False) if len(mine) else ()):
            rate = block[block["outcome"] == outcome]
            overall = rate["count"].sum() / rate["n"].sum() if rate["n"].sum() else np.nan
            flagged = rows[rows["p_holm"] < alpha]
            text = (f"  {outcome}: {overall:.1%} of cells; control paraphrases {rows['control_rate'].iloc[0]:.1%}; "
                    + ("categories that differ (Holm p < .05): " + ", ".join(
                        f"{r['category']} {r['rate']:.1%}" for _, r in flagged.iterrows())
                       if len(flagged) else "no category differs from the controls (Holm p < .05)"))
            lines += _wrapped(text)
    agreement = tables["agreement"]
    if len(agreement):
        lines.append("agreement across models on which personas matter (regular personas):")
        for _, r in agreement.iterrows():
            if not np.isfinite(r["value"]):
                lines.append(f"  {r['outcome']}: {r['statistic']} undefined (a model gives every persona the same "
                             "value)")
                continue
            lines += _wrapped(f"  {r['outcome']}: {r['statistic']} "
                              f"{estimate_with_interval(r['value'], r['ci_low'], r['ci_high'])} "
                              f"({r['pairs']}; {int(r['n_personas'])} personas, {_p(r['p_value'])})")
    extremes = tables["extremes"]
    if len(extremes):
        lines.append("personas at the top or bottom for every model:")
        for (outcome, position), rows in extremes.groupby(["outcome", "position"], sort=False):
            lines += _wrapped(f"  {position} {int(rows['k'].iloc[0])} of {outcome} for every model: "
                              + ", ".join(f"{r['persona_id']} ({r['category']})" for _, r in rows.iterrows()))
    return lines
