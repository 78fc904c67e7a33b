"""Every comparison table of silicon against human answers, from plain DataFrames: :func:`compare_answers`.

Per model × persona style × cue type (the columns :data:`~silicon_sample.tidy.results.PAIR_COLUMNS`
name one model–persona pair), these tables, each indexed by the pair and the table's own keys
(:data:`TABLE_INDEX`); persona weights and survey weights are used where the statistic allows, and the
docstring of each module says how:

- ``items`` — per item: distributions, representativeness, JS distance, d (:mod:`.item_fidelity`);
- ``scales`` — per scale: means, SDs, d, alpha and omega side by side (:mod:`.scale_fidelity`);
- ``structure`` — correlation SRMR and Tucker's congruence per scale (:mod:`.structure`);
- ``invariance`` — measurement invariance with group = source, and the highest level reached
  (:mod:`.source_invariance`);
- ``subgroups`` — the same metrics within each category of gender, age band, education, party id
  (whichever the baseline has) (:mod:`.subgroups`);
- ``patterns`` — whether each human subgroup difference is reproduced in sign and size (:mod:`.subgroups`);
- ``anchors`` — every summary figure with its bootstrap interval, its floors (uniform, marginal,
  shuffled), the human ceiling and a normalized score, per family too (:mod:`.anchors`);
- ``response_styles`` — acquiescence, contradictions, extreme and midpoint responding, straight-lining,
  silicon beside human with d and a flag; ``variance`` — the silicon / human variance ratio per item and
  scale with its F interval; ``retest`` — ICC(A,1) per item and scale when personas answered more than
  once (:mod:`.response_styles`);
- ``conditioning`` — per subgroup, the distance to its human answers with the persona and under each
  control style (``none``, ``assistant_control``) crossed in the study; ``cue_consistency`` — whether
  explicit attributes and first names for the same group shift answers alike (:mod:`.conditioning`);
- ``numeric`` — per numeric item: means, medians, SD ratio, Wasserstein-1 and KS distances, heaping, with
  the uniform floor and the split-half human ceiling (:mod:`.numeric_fidelity`);
- ``knowledge`` — per knowledge item: the proportion correct, overall and within each subgroup
  (:mod:`.knowledge`);
- ``selections`` and ``ranks`` — per check-all item and option the selection rates, per rank item and option
  the share ranking it and its mean place, each item between random answers and the human ceiling
  (:mod:`.selection_fidelity`);
- ``nonresponse`` — refusal / invalid / failed rates by persona attribute with a χ² test
  (:mod:`.nonresponse`; built from long results by :func:`silicon_sample.comparison.runs.compare_run`).

Subgroup metrics cover scales and items; patterns are on the scales when the
instrument scores scales, on its items otherwise.
"""

from __future__ import annotations

import pandas as pd

from ..psychometrics import estimator_name
from ..specs.instruments import Instrument
from ..tidy.results import PAIR_COLUMNS, with_source_columns
from .anchors import anchored_figures
from .conditioning import conditioning_table, cue_consistency
from .impossible import flag_impossible
from .item_fidelity import compare_items
from .knowledge import compare_knowledge
from .numeric_fidelity import compare_numeric, numeric_items
from .response_styles import response_style_table, retest_table, variance_table
from .scale_fidelity import compare_scales
from .selection_fidelity import compare_ranks, compare_selections
from .setting import scored_items, setting_for, with_scale_scores
from .source_invariance import invariance_between_sources
from .structure import compare_structure, scale_estimators
from .subgroups import pattern_correspondence, subgroup_metrics

TABLE_INDEX = {"anchors": ["figure"], "items": ["item"], "scales": ["scale"], "structure": ["scale"],
               "invariance": ["level"], "subgroups": ["attribute", "category", "outcome"],
               "patterns": ["attribute", "contrast", "outcome"], "response_styles": ["index"],
               "variance": ["outcome"], "retest": ["outcome"], "nonresponse": ["attribute", "category"],
               "numeric": ["item"], "knowledge": ["item", "attribute", "category"],
               "selections": ["item", "option"], "ranks": ["item", "option"], "missing": ["item"]}


def tag_pair(table: pd.DataFrame, pair: tuple) -> pd.DataFrame:
    """Add the model–persona pair's columns to a table's index."""
    return table.assign(**dict(zip(PAIR_COLUMNS, pair))).set_index(list(PAIR_COLUMNS), append=True)


def pair_first(name: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts of one table, concatenated, indexed by the pair's columns then the table's own keys."""
    return pd.concat(parts).reorder_levels(list(PAIR_COLUMNS) + TABLE_INDEX[name])


def compare_answers(human: pd.DataFrame, silicon: pd.DataFrame, instrument: Instrument,
                    categories: dict[str, list] | None = None, *, invariance: bool = True,
                    tolerance: float = 0.2, anchors: bool = True, bootstrap: int = 200, repetitions: int = 10,
                    seed: int = 0, cued: list[str] | None = None, estimator: str | None = None,
                    collapse_empty: bool = False, missing: str = "auto") -> dict[str, pd.DataFrame]:
    """The comparison tables (all but ``nonresponse``) from plain DataFrames, for notebooks.

    Parameters
    ----------
    human : DataFrame
        One row per respondent: item columns, a ``weight`` column and attribute columns.
    silicon : DataFrame
        One row per persona × style × cue type × model × replicate (:func:`silicon_sample.tidy.results.wide_results`):
        ``model``, ``persona_style``, ``cue_type``, ``weight``, item and attribute columns (scale scores
        are computed when missing).
    instrument : Instrument
        Gives the items, their options and the scoring keys.
    categories : dict, optional
        ``{attribute: [categories in order]}``: the subgroups compared (none when omitted).
    invariance : bool
        Fit the measurement-invariance models (the slowest part: seconds to a minute per pair).
    tolerance : float
        Largest |d_silicon − d_human| counted as a subgroup difference reproduced in size.
    anchors : bool
        Build the ``anchors`` table: floors, ceiling, bootstrap intervals and normalized scores.
    bootstrap, repetitions, seed : int
        Bootstrap resamples, repetitions of each floor and of the ceiling, and their seed (:mod:`.anchors`).
    cued : list of str, optional
        The attributes a first-name cue conveys, for ``cue_consistency`` (default: every attribute).
    estimator : {"ML", "MLR", "WLSMV"}, optional
        Estimator of the reliability reading, the structure's loadings (polychoric for WLSMV) and the
        invariance models; default chosen per pair from the instrument's options and both sources' answers
        (:func:`silicon_sample.psychometrics.choose_estimator`).
    collapse_empty : bool
        WLSMV invariance: merge an option one source never uses into its neighbour instead of not fitting.
    missing : {"auto", "listwise"}
        The invariance models' (and their human ceiling's) and the structure table's one-factor models' missing
        answers — refused, invalid, "Don't know", and the humans' blanks: ``auto`` fits every respondent with an
        answer (FIML for ML/MLR, pairwise for WLSMV, as lavaan), ``listwise`` the complete respondents
        (:func:`.source_invariance.invariance_between_sources`).

    Returns
    -------
    dict of DataFrame
        ``anchors``, ``items``, ``scales``, ``structure``, ``invariance``, ``subgroups``, ``patterns`` (those
        that apply),
        each indexed by ``model``, ``persona_style``, ``cue_type`` and :data:`TABLE_INDEX`.

    Examples
    --------
    >>> import silicon_sample as ss
    >>> base = ss.load_baseline("psych_bfi")                                         # doctest: +SKIP
    >>> tables = compare_answers(base.data, ss.results("runs/replica", wide=True),
    ...                          base.instrument, invariance=False)                   # doctest: +SKIP
    >>> tables["scales"][["mean_human", "mean_silicon", "d"]]                         # doctest: +SKIP
    """
    silicon = with_source_columns(silicon)
    setting = setting_for(human, instrument, categories)
    human, options, ranges, keys = setting.human, setting.options, setting.ranges, setting.keys
    if keys and not set(keys) <= set(silicon.columns):
        silicon = with_scale_scores(silicon, setting)
    outcomes = setting.outcomes
    categories = setting.categories
    attributes = setting.attributes
    wh = human["weight"].to_numpy(dtype=float)
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLE_INDEX if name != "nonresponse"}
    n_options = {item: len(codes) for item, codes in options.items()}
    numeric = numeric_items(instrument)
    selections = {it.id: tuple(instrument.scale_of(it).values) for it in instrument.items if it.type == "multiple"}
    ranks = {it.id: tuple(instrument.scale_of(it).values) for it in instrument.items if it.type == "rank"}
    exclusive = {i: instrument.question_of(i).exclusive for i in selections}
    limits = {i: (instrument.question_of(i).min_selected,
                  instrument.question_of(i).max_selected or len(selections[i])) for i in selections}
    tops = {i: instrument.question_of(i).n_ranked for i in ranks}
    human_scored = scored_items(human, setting)
    for pair, rows in silicon.groupby(list(PAIR_COLUMNS)):
        w = rows["weight"].to_numpy(dtype=float)
        highest, estimators, invariance_estimator = None, None, None
        if numeric:
            tables["numeric"].append(tag_pair(compare_numeric(human, rows, numeric, wh, w, bootstrap=bootstrap,
                                                              repetitions=repetitions, seed=seed,
                                                              attributes=attributes), pair))
        if selections:
            tables["selections"].append(tag_pair(compare_selections(
                human, rows, selections, wh, w, exclusive=exclusive, limits=limits, repetitions=repetitions,
                seed=seed), pair))
        if ranks:
            tables["ranks"].append(tag_pair(compare_ranks(human, rows, ranks, wh, w, top=tops,
                                                          repetitions=repetitions, seed=seed), pair))
        if setting.correct:
            tables["knowledge"].append(tag_pair(compare_knowledge(human, rows, setting.correct, attributes,
                                                                  categories, wh, w), pair))
        if not options:          # every item numeric: no option tables, scales or anchors of codes
            continue
        tables["items"].append(tag_pair(compare_items(human, rows, options, wh, w), pair))
        scored = scored_items(rows, setting)
        if keys:
            scale_table = compare_scales(human_scored, scored, keys, ranges, instrument.scoring.method, wh, w,
                                         estimator=estimator, n_options=n_options)
            tables["scales"].append(tag_pair(scale_table, pair))
            estimators = scale_estimators(human_scored, scored, keys, estimator, n_options)
            srmr, congruence = compare_structure(human_scored, scored, keys, ranges, estimators, missing=missing)
            congruence = congruence[["congruence", "reading", "note", "estimator"]].assign(correlation_srmr=srmr)
            tables["structure"].append(tag_pair(congruence, pair))
            if invariance:
                table, highest, note = invariance_between_sources(human_scored, scored, keys, estimator=estimator,
                                                                  n_options=n_options,
                                                                  collapse_empty=collapse_empty, missing=missing)
                tables["invariance"].append(tag_pair(table.assign(highest_level=highest, note=note), pair))
                label = table["estimator"].iloc[0] if "estimator" in table else None   # none when not fitted
                invariance_estimator = estimator_name(label) or None
        tables["response_styles"].append(tag_pair(response_style_table(human, rows, keys, options), pair))
        tables["variance"].append(tag_pair(variance_table(human, rows, list(keys) + setting.items), pair))
        retest = retest_table(rows, list(keys) + setting.items, respondent=["persona_id"])
        if len(retest):
            tables["retest"].append(tag_pair(retest, pair))
        if attributes:
            measured = list(keys) + setting.items             # scales and the items answered with a code
            tables["subgroups"].append(tag_pair(subgroup_metrics(human, rows, attributes, measured, options, wh, w,
                                                                 categories), pair))
            tables["patterns"].append(tag_pair(pattern_correspondence(human, rows, attributes, outcomes, wh, w,
                                                                      tolerance=tolerance, categories=categories),
                                               pair))
        if anchors:   # last: its per-row figures join this pair's tables
            anchored = anchored_figures(human, rows, setting, bootstrap=bootstrap, repetitions=repetitions,
                                        invariance_level=highest, seed=seed, estimators=estimators,
                                        invariance_estimator=invariance_estimator, missing=missing)
            tables["anchors"].append(tag_pair(anchored.figures, pair))
            for name, rows_anchored in anchored.rows.items():
                if len(rows_anchored) and tables.get(name):
                    tables[name][-1] = tables[name][-1].join(rows_anchored, on=list(rows_anchored.index.names))
    out = {name: flag_impossible(pair_first(name, parts)) for name, parts in tables.items() if parts}
    if attributes and options:
        # persona conditioning is read under one presentation: the original one when perturbations are crossed
        shown = silicon["perturbation"].iloc[0] if "original" not in set(silicon["perturbation"]) else "original"
        as_written = silicon[silicon["perturbation"] == shown]
        conditioning = conditioning_table(human, as_written, categories, outcomes)
        if len(conditioning):
            out["conditioning"] = conditioning
        consistency = cue_consistency(as_written, categories, outcomes, cued)
        if len(consistency):
            out["cue_consistency"] = consistency
    return out
