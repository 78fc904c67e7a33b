"""Catalogue populations: named personas ("a statistician", "Yumi from Japan") instead of demographic profiles.

A catalogue population file (``kind: catalogue``) lists personas, each with an ``id``, a ``category``, a
``description`` (what the ``role`` style states: "You are {description}.") and optional ``attributes``; with
``controls`` (``shipped``: the 30 paraphrases of "a helpful assistant" of Araujo & Roth, 2025, or a list of
one's own) each control paraphrase becomes a persona of category ``control``; with ``empty: true`` the
empty persona (category ``empty``, no persona text) is added. This is the design of Araujo & Roth,
"Helpful assistant or fruitful facilitator? Investigating how personas affect language model behavior"
(PLoS ONE, 2025; arXiv:2407.02099), whose 162 personas in 12 categories ship as ``persona_behavior``.

Every persona row has ``persona_id`` (the catalogue id), ``category``, ``description``, ``persona_group``
(:data:`GROUPS`: ``persona``, ``control`` or ``empty``), the declared attributes (``not stated`` where a persona
gives none) and ``weight`` 1. A study selects from it (:func:`select`): the categories it names, a seeded
subset of ``per_category`` personas per category or ``n`` in all spread evenly over the categories, a seeded
subset of ``controls``, and the empty persona or not. Control ids are the description with spaces as
underscores (``a_helpful_assistant``), as in the authors' result files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..seeds import rng_for

GROUPS = ("persona", "control", "empty")
EMPTY_ID = "empty"
NOT_STATED = "not stated"


def catalogue_rows(data: dict, path: Path, control_paraphrases: tuple[str, ...]) -> pd.DataFrame:
    """Every persona of a catalogue file (regular, then controls, then the empty persona), checked: ids
    unique across all of them, the reserved categories ``control`` and ``empty`` not used by regular
    personas."""
    rows = []
    extra = sorted({name for p in data["personas"] for name in p.get("attributes", {})})
    reserved = [name for name in extra if name in ("persona_id", "category", "description", "persona_group",
                                                   "weight")]
    if reserved:
        raise SpecError(f"personas: attribute {reserved[0]!r} is a column the catalogue sets itself", where=str(path),
                        fix="rename the attribute")
    for index, persona in enumerate(data["personas"]):
        if persona["category"] in ("control", "empty"):
            raise SpecError(f"personas[{index}] ({persona['id']}): category {persona['category']!r} is reserved for "
                            "the control and empty personas", where=str(path),
                            fix="give it a category of its own; controls come from `controls`, the empty persona "
                                "from `empty: true`")
        attributes = persona.get("attributes", {})
        rows.append({"persona_id": persona["id"], "category": persona["category"],
                     "description": persona["description"], "persona_group": "persona",
                     **{name: str(attributes.get(name, NOT_STATED)) for name in extra}})
    controls = data.get("controls")
    paraphrases = control_paraphrases if controls == "shipped" else tuple(controls or ())
    for text in paraphrases:
        rows.append({"persona_id": text.replace(" ", "_"), "category": "control", "description": text,
                     "persona_group": "control", **dict.fromkeys(extra, NOT_STATED)})
    if data.get("empty", True):
        rows.append({"persona_id": EMPTY_ID, "category": "empty", "description": "", "persona_group": "empty",
                     **dict.fromkeys(extra, NOT_STATED)})
    frame = pd.DataFrame(rows)
    duplicated = frame["persona_id"][frame["persona_id"].duplicated()]
    if len(duplicated):
        raise SpecError(f"persona id {duplicated.iloc[0]!r} is given twice (ids must be unique, controls and the "
                        f"empty persona {EMPTY_ID!r} included)", where=str(path), fix="rename one of them")
    return frame


def select(rows: pd.DataFrame, seed: int, population_id: str, *, categories: list[str] | None = None,
           per_category: int | None = None, n: int | None = None, controls: int | str = "all",
           empty: bool = True) -> pd.DataFrame:
    """The personas a study asks for, in catalogue order: regular personas of ``categories`` (default all),
    at most ``per_category`` of each and ``n`` in all (seeded; ``n`` spread over the categories as evenly as
    they allow, largest categories last to run out), ``controls`` control personas (``all`` or a seeded
    number) and the empty persona if ``empty`` and the catalogue has it."""
    where = f"population {population_id}"
    regular = rows[rows["persona_group"] == "persona"]
    known = list(dict.fromkeys(regular["category"]))
    if categories is not None:
        unknown = [c for c in categories if c not in known]
        if unknown:
            raise SpecError(f"population.categories: {unknown[0]!r} is not a category of {population_id}",
                            where=where, fix=f"categories: {', '.join(known)}")
        regular = regular[regular["category"].isin(categories)]
    rng = rng_for(seed, "catalogue", population_id)
    chosen = {c: list(rng.permutation(group.index.to_numpy())) for c, group in regular.groupby("category", sort=False)}
    if per_category is not None:
        chosen = {c: picks[:per_category] for c, picks in chosen.items()}
    if n is not None:
        if n > sum(len(p) for p in chosen.values()):
            raise SpecError(f"n = {n} is more regular personas than the selection has "
                            f"({sum(len(p) for p in chosen.values())})", where=where,
                            fix="lower n, or leave it out to take every selected persona")
        quota = dict.fromkeys(chosen, 0)
        order = list(rng.permutation(list(chosen)))
        left = n
        while left:
            for c in order:
                if left and quota[c] < len(chosen[c]):
                    quota[c] += 1
                    left -= 1
        chosen = {c: picks[:quota[c]] for c, picks in chosen.items()}
    keep = {int(i) for picks in chosen.values() for i in picks}
    control_rows = rows[rows["persona_group"] == "control"]
    if controls != "all":
        if controls > len(control_rows):
            raise SpecError(f"population.controls: {controls} is more than the {len(control_rows)} control personas "
                            f"of {population_id}", where=where, fix=f"use at most {len(control_rows)}, or all")
        picks = rng_for(seed, "controls", population_id).permutation(control_rows.index.to_numpy())[:controls]
        control_rows = control_rows.loc[sorted(picks)]
    keep |= {int(i) for i in control_rows.index}
    if empty:
        keep |= {int(i) for i in rows.index[rows["persona_group"] == "empty"]}
    out = rows.loc[sorted(keep)].reset_index(drop=True)
    out["weight"] = 1.0
    return out


def joint_of(rows: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The catalogue as a population's joint table: one row per persona, equal shares."""
    joint = rows[names].copy()
    joint["share"] = np.full(len(joint), 1.0 / len(joint))
    return joint


__all__ = ["EMPTY_ID", "GROUPS", "NOT_STATED", "catalogue_rows", "joint_of", "select"]
