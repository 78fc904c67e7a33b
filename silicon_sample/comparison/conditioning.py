"""Does a persona move answers toward its subgroup? Persona conditioning against control styles, and
whether two cues for the same group shift answers alike.

A study that crosses real persona styles with the control styles ``none`` (no persona) and
``assistant_control`` (paraphrases of "You are a helpful assistant") asks the same personas the same
items with and without their persona. For each model × cue type, each real style, each control style
and each subgroup (attribute × category, the personas who belong to it):

    distance = mean over outcomes of |d(silicon subgroup, human subgroup)|

with Cohen's d (pooled SD, N − 1; scale scores when the instrument scores scales, items otherwise).
``improvement`` = distance under the control − distance under the persona: positive when the persona
brings the subgroup's answers closer to its human counterpart. :func:`conditioning_summary` gives per
pair the share of subgroups moved closer and the mean improvement; ``moves_toward_subgroups`` is true
when more than half are moved closer and the mean improvement is positive.

*Cue consistency*: with two cue types (explicit attributes and first names) for the same model and
style, each subgroup's effect — its silicon mean minus the silicon mean of all personas, per outcome —
is computed under each cue, and their Pearson correlation across subgroups × outcomes says whether the
two cues for the same group shift answers alike (the construct-validity check of demographic probing).
Only the attributes a name conveys (``cued``: gender, and ethnicity where names carry it) enter it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..population.personas import CONTROL_STYLES
from .item_fidelity import cohens_d


def _distance(human: pd.DataFrame, silicon: pd.DataFrame, outcomes: list[str]) -> float:
    ds = [cohens_d(pd.to_numeric(silicon[o], errors="coerce"), pd.to_numeric(human[o], errors="coerce"))
          for o in outcomes]
    ds = [abs(d) for d in ds if np.isfinite(d)]
    return float(np.mean(ds)) if ds else np.nan


def conditioning_table(human: pd.DataFrame, silicon: pd.DataFrame, categories: dict[str, list],
                       outcomes: list[str], min_n: int = 3) -> pd.DataFrame:
    """Per model × real style × cue type × control style × attribute × category: the distance to the human
    subgroup with the persona and under the control, the improvement and whether the persona is closer.

    ``silicon`` has ``model``, ``persona_style``, ``cue_type``, the attributes and the outcomes (and
    ``perturbation`` when the study crosses them: a persona and its control are compared under the same
    perturbation, never pooled across them); empty when no control style is crossed with a real one.
    """
    rows = []
    by = ["model", "cue_type", *(["perturbation"] if "perturbation" in silicon.columns else [])]
    for key, block in silicon.groupby(by, sort=False):
        model, cue, *shown = key
        perturbation = {"perturbation": shown[0]} if shown else {}
        styles = list(dict.fromkeys(block["persona_style"]))
        controls = [s for s in styles if s in CONTROL_STYLES]
        for style in (s for s in styles if s not in CONTROL_STYLES):
            for control in controls:
                with_persona = block[block["persona_style"] == style]
                without = block[block["persona_style"] == control]
                for attribute, order in categories.items():
                    for category in order:
                        h = human[human[attribute] == category]
                        p = with_persona[with_persona[attribute] == category]
                        c = without[without[attribute] == category]
                        row = {"model": model, "persona_style": style, "cue_type": cue, **perturbation,
                               "control": control,
                               "attribute": attribute, "category": category, "n_human": len(h),
                               "n_silicon": len(p), "distance_persona": np.nan, "distance_control": np.nan,
                               "improvement": np.nan, "closer": pd.NA}
                        if min(len(h), len(p), len(c)) >= min_n:
                            row["distance_persona"] = _distance(h, p, outcomes)
                            row["distance_control"] = _distance(h, c, outcomes)
                            row["improvement"] = row["distance_control"] - row["distance_persona"]
                            if np.isfinite(row["improvement"]):
                                row["closer"] = bool(row["improvement"] > 0)
                        rows.append(row)
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows)
    table["closer"] = table["closer"].astype("boolean")
    pair = ["model", "persona_style", "cue_type", *(["perturbation"] if "perturbation" in table.columns else [])]
    return table.set_index([*pair, "control", "attribute", "category"])


def conditioning_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model × real style × cue type: subgroups compared, share moved closer, mean improvement, and
    whether the personas move answers toward their subgroups."""
    if table.empty:
        return pd.DataFrame()
    pair = [n for n in ("run", "model", "persona_style", "cue_type", "perturbation") if n in table.index.names]
    grouped = table.dropna(subset=["improvement"]).groupby(level=pair, sort=False)
    summary = grouped.agg(subgroups=("improvement", "size"), share_closer=("closer", "mean"),
                          mean_improvement=("improvement", "mean"))
    summary["moves_toward_subgroups"] = (summary["share_closer"] > 0.5) & (summary["mean_improvement"] > 0)
    return summary


def cue_consistency(silicon: pd.DataFrame, categories: dict[str, list], outcomes: list[str],
                    cued: list[str] | None = None, min_n: int = 3) -> pd.DataFrame:
    """Per model × style with both cue types: r between the subgroup effects under ``explicit`` and ``name``."""
    attributes = [a for a in categories if cued is None or a in cued]
    rows = []
    for (model, style), block in silicon.groupby(["model", "persona_style"], sort=False):
        if style in CONTROL_STYLES or not {"explicit", "name"} <= set(block["cue_type"]):
            continue
        effects = {}
        for cue in ("explicit", "name"):
            frame = block[block["cue_type"] == cue]
            overall = frame[outcomes].apply(pd.to_numeric, errors="coerce").mean()
            effects[cue] = {(a, c, o): pd.to_numeric(frame.loc[frame[a] == c, o], errors="coerce").mean() - overall[o]
                            for a in attributes for c in categories[a] for o in outcomes
                            if (frame[a] == c).sum() >= min_n}
        shared = [k for k in effects["explicit"] if k in effects["name"]]
        x = np.array([effects["explicit"][k] for k in shared], dtype=float)
        y = np.array([effects["name"][k] for k in shared], dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        r = (float(np.corrcoef(x[keep], y[keep])[0, 1])
             if keep.sum() > 2 and x[keep].std() > 0 and y[keep].std() > 0 else np.nan)
        rows.append({"model": model, "persona_style": style, "attributes": ", ".join(attributes),
                     "effects": int(keep.sum()), "r_explicit_name": r})
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).set_index(["model", "persona_style"])
