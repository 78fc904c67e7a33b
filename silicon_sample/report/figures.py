"""The report's figures, drawn with plotnine (the grammar of graphics of R's ggplot2) and embedded as PNG.

Every figure states its n in its title or caption and draws its intervals; :func:`png_data_uri` turns a
plot into a ``data:`` URI so the report is one file that opens offline.
"""

from __future__ import annotations

import base64
import io
import warnings

import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    element_text,
    facet_wrap,
    geom_abline,
    geom_col,
    geom_density,
    geom_errorbar,
    geom_errorbarh,
    geom_hline,
    geom_point,
    geom_pointrange,
    geom_vline,
    ggplot,
    labs,
    position_dodge,
    scale_colour_manual,
    scale_fill_manual,
    theme,
    theme_bw,
)

SOURCE_COLOURS = {"human": "#1b6ca8", "silicon": "#d1495b", "sample": "#d1495b", "population": "#1b6ca8"}
STATUS_COLOURS = {"answered": "#2a9d8f", "refused": "#e9c46a", "invalid": "#f4a261", "failed": "#e76f51",
                  "pending": "#adb5bd"}


def png_data_uri(plot, dpi: int = 110) -> str:
    """A plot as a base64 PNG ``data:`` URI, at the size its theme gives (``figure_size``, inches)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # plotnine's notes on removed rows and saving sizes
        plot.save(buffer, format="png", dpi=dpi, verbose=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _theme():
    return theme_bw() + theme(figure_size=(9, 5), axis_text_x=element_text(rotation=30, ha="right"))


def literal(text) -> str:
    """A label drawn as written: matplotlib reads text between two ``$`` as math ("$10,000 to $19,999")."""
    return str(text).replace("$", r"\$")


def composition(frame: pd.DataFrame, n: int):
    """Share of each category in the sample (weighted) beside the target population, as horizontal bars with
    the categories on the axis, one panel per attribute, the figure as tall as its categories need:
    columns attribute, category (ordered as the population lists them), source (sample / population), share."""
    frame = frame.copy()
    order = [literal(c) for c in (frame["category"].cat.categories if hasattr(frame["category"], "cat")
                                  else dict.fromkeys(frame["category"]))]
    frame["category"] = pd.Categorical(frame["category"].map(literal), categories=order[::-1], ordered=True)
    categories = frame.groupby("attribute", observed=True)["category"].nunique()
    return (ggplot(frame, aes("category", "share", fill="source"))
            + geom_col(position=position_dodge(width=0.8), width=0.75) + coord_flip()
            + facet_wrap("~attribute", scales="free_y", ncol=1)
            + scale_fill_manual(values=SOURCE_COLOURS)
            + labs(x="", y="share of the personas (sample, weighted) and of the population", fill="",
                   title=f"Sample composition (n = {n} personas) beside the target population")
            + theme_bw() + theme(figure_size=(9, 1.4 + 0.42 * int(categories.sum()) + 0.45 * len(categories))))


def statuses(frame: pd.DataFrame):
    """Cells by status per model: columns model, status, cells."""
    total = int(frame["cells"].sum())
    return (ggplot(frame, aes("model", "cells", fill="status")) + geom_col() + coord_flip()
            + scale_fill_manual(values=STATUS_COLOURS)
            + labs(x="", y="cells", fill="", title=f"Cells by status (n = {total} cells)") + theme_bw()
            + theme(figure_size=(9, 2.5 + 0.4 * frame["model"].nunique())))


def distributions(frame: pd.DataFrame, title: str):
    """Answer distributions per item, silicon beside human: columns item, option, source, share."""
    return (ggplot(frame, aes("factor(option)", "share", fill="source")) + geom_col(position="dodge")
            + facet_wrap("~item", ncol=5, scales="free_x") + scale_fill_manual(values=SOURCE_COLOURS)
            + labs(x="option", y="share of answers", fill="", title=literal(title)) + theme_bw()
            + theme(figure_size=(10, 1.6 * ((frame["item"].nunique() + 4) // 5) + 1)))


def scale_distributions(frame: pd.DataFrame, title: str, means: pd.DataFrame | None = None):
    """Scale scores, silicon beside human, as weighted densities per scale (columns scale, score, source and
    ``weight``, 1 when absent); ``means`` (columns scale, source, mean: the table shown beside the figure)
    drawn as dashed lines."""
    frame = frame if "weight" in frame else frame.assign(weight=1.0)
    plot = (ggplot(frame, aes("score", fill="source", weight="weight")) + geom_density(alpha=0.45, colour=None))
    if means is not None and len(means):
        plot += geom_vline(means, aes(xintercept="mean", colour="source"), linetype="dashed", size=0.7,
                           show_legend=False)
        plot += scale_colour_manual(values=SOURCE_COLOURS)
    return (plot + facet_wrap("~scale", scales="free", ncol=3) + scale_fill_manual(values=SOURCE_COLOURS)
            + labs(x="scale score", y="density", fill="", title=literal(title)) + theme_bw()
            + theme(figure_size=(10, 2.4 * ((frame["scale"].nunique() + 2) // 3) + 1)))


def numeric_distributions(frame: pd.DataFrame, title: str, binwidth: float, means: pd.DataFrame | None = None):
    """Numeric answers (a thermometer), silicon beside human, as weighted histograms of the share of answers
    per bin (columns item, value, source, weight), one panel per item; ``means`` (columns item, source, mean:
    the table shown beside the figure) drawn as dashed lines. Heaping on round numbers shows as spikes."""
    from plotnine import after_stat, geom_histogram

    frame = frame.assign(share=frame["weight"] / frame.groupby(["item", "source"])["weight"].transform("sum"))
    plot = (ggplot(frame, aes("value", fill="source", weight="share"))
            + geom_histogram(aes(y=after_stat("count")), binwidth=binwidth, boundary=0, position="identity",
                             alpha=0.5, colour=None))
    if means is not None and len(means):
        plot += geom_vline(means, aes(xintercept="mean", colour="source"), linetype="dashed", size=0.7,
                           show_legend=False)
        plot += scale_colour_manual(values=SOURCE_COLOURS)
    return (plot + facet_wrap("~item", ncol=2) + scale_fill_manual(values=SOURCE_COLOURS)
            + labs(x=f"answer (bins of {binwidth:g})", y="share of answers", fill="", title=literal(title))
            + theme_bw() + theme(figure_size=(10, 2.8 * ((frame["item"].nunique() + 1) // 2) + 1)))


def selection_rates(frame: pd.DataFrame, title: str):
    """Check-all-that-apply items: each option's selection rate with its 95 % interval (columns item, option,
    rate, low, high, source), one panel per item."""
    return (ggplot(frame, aes("option", "rate", ymin="low", ymax="high", colour="source"))
            + geom_pointrange(position=position_dodge(width=0.5)) + coord_flip()
            + facet_wrap("~item", ncol=2, scales="free_y") + scale_colour_manual(values=SOURCE_COLOURS)
            + labs(x="", y="share of answers choosing the option (95 % interval)", colour="", title=literal(title))
            + theme_bw() + theme(figure_size=(10, 1.5 + 0.4 * frame.groupby("item")["option"].nunique().sum())))


def fidelity(frame: pd.DataFrame):
    """Each summary figure normalised between its best floor (0) and the human ceiling (1), with its
    interval: columns label, normalized, normalized_low, normalized_high."""
    return (ggplot(frame, aes("label", "normalized", ymin="normalized_low", ymax="normalized_high"))
            + geom_hline(yintercept=0, linetype="dashed", colour="#888888")
            + geom_hline(yintercept=1, linetype="dashed", colour="#1b6ca8")
            + geom_pointrange(colour="#d1495b") + coord_flip()
            + labs(x="", y="normalized score (bootstrap 95% interval)\n0 = the best floor, 1 = the human ceiling",
                   title="Fidelity between its floor and the human ceiling")
            + theme_bw() + theme(figure_size=(9, 1.5 + 0.35 * len(frame))))


def patterns(frame: pd.DataFrame):
    """Subgroup differences: human d against silicon d with both intervals: columns d_human, ci_low_human,
    ci_high_human, d_silicon, ci_low_silicon, ci_high_silicon, attribute."""
    return (ggplot(frame, aes("d_human", "d_silicon", colour="attribute"))
            + geom_abline(slope=1, intercept=0, linetype="dashed", colour="#888888")
            + geom_hline(yintercept=0, colour="#cccccc") + geom_vline(xintercept=0, colour="#cccccc")
            + geom_errorbar(aes(ymin="ci_low_silicon", ymax="ci_high_silicon"), width=0, alpha=0.6)
            + geom_errorbarh(aes(xmin="ci_low_human", xmax="ci_high_human"), height=0, alpha=0.6)
            + geom_point(size=2)
            + labs(x="human d (95 % interval)", y="silicon d (95 % interval)", colour="",
                   title=f"Subgroup d, human against silicon ({len(frame)} contrasts; dashed: equal)")
            + theme_bw() + theme(figure_size=(8, 6)))


def forest(frame: pd.DataFrame, hdi: float):
    """Posterior effects by source (mean and HDI): columns label, mean, low, high, what."""
    return (ggplot(frame, aes("label", "mean", ymin="low", ymax="high", colour="what"))
            + geom_hline(yintercept=0, linetype="dashed", colour="#888888")
            + geom_pointrange(position=position_dodge(width=0.5)) + coord_flip()
            + labs(x="", y=f"log-odds (posterior mean, {hdi:.0%} HDI)", colour="",
                   title="Effect of the attribute, and silicon minus human")
            + theme_bw() + theme(figure_size=(9, 1.5 + 0.45 * frame["label"].nunique())))


def calibration_intervals(frame: pd.DataFrame, colours: dict[str, str], title: str):
    """Each estimate's PPI++ interval beside the humans' own (and the full-population value where known):
    columns label, estimate, low, high, what (the interval's source, with its n, a key of ``colours``)."""
    plot = (ggplot(frame, aes("label", "estimate", ymin="low", ymax="high", colour="what"))
            + geom_pointrange(position=position_dodge(width=0.6)) + coord_flip()
            + scale_colour_manual(values=colours, breaks=[w for w in colours if w in set(frame["what"])])
            + labs(x="", y="estimate (95% interval)", colour="", title=title)
            + theme_bw() + theme(figure_size=(9, 1.8 + 0.45 * frame["label"].nunique()), legend_position="bottom"))
    return plot


PERSONA_GROUP_COLOURS = {"persona": "#d1495b", "control": "#1b6ca8", "empty": "#2a9d8f"}


def persona_categories(frame: pd.DataFrame, title: str):
    """Each category's mean outcome over its personas with its 95% interval, the control paraphrases and the empty
    persona beside them, one panel per outcome: columns outcome, label (category with its n), mean, low, high,
    group (a key of :data:`PERSONA_GROUP_COLOURS`)."""
    outcomes = frame["outcome"].nunique()
    columns = min(outcomes, 3)
    rows = -(-outcomes // columns)
    plot = (ggplot(frame, aes("label", "mean", ymin="low", ymax="high", colour="group"))
            + geom_pointrange(size=0.4) + coord_flip() + facet_wrap("outcome", ncol=columns, scales="free_x")
            + scale_colour_manual(values=PERSONA_GROUP_COLOURS,
                                  breaks=[g for g in PERSONA_GROUP_COLOURS if g in set(frame["group"])])
            + labs(x="", y="mean over the category's personas (95% interval)", colour="", title=title)
            + theme_bw() + theme(figure_size=(10, 1.4 + rows * (0.7 + 0.24 * frame["label"].nunique())),
                                 legend_position="bottom"))
    return plot


def spread_ratios(frame: pd.DataFrame, title: str):
    """SD across personas over SD across the control paraphrases, with its 95% bootstrap interval, per outcome
    and pair: columns outcome, pair, ratio, low, high; a line at 1 (paraphrase noise)."""
    plot = (ggplot(frame, aes("outcome", "ratio", ymin="low", ymax="high", colour="pair"))
            + geom_hline(yintercept=1, linetype="dashed", colour="#555555")
            + geom_pointrange(position=position_dodge(width=0.5)) + coord_flip()
            + labs(x="", y="SD across personas / SD across control paraphrases (95% interval; 1 = paraphrase noise)",
                   colour="", title=title)
            + theme_bw() + theme(figure_size=(9, 1.6 + 0.4 * frame["outcome"].nunique()), legend_position="bottom"))
    return plot
