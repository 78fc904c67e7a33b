"""Study specs: a seed, a population, instruments, models and templates.

A study YAML file is validated against ``silicon_sample/specs/schemas/study.schema.json``
and every file it names (population, instruments, persona template, prompt
layout) is loaded and validated before anything runs. Names are shipped files;
paths are taken relative to the study file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..answers import AnswerMode
from ..backends import registry
from ..errors import SpecError
from ..population import baselines
from ..population import populations as populations_module
from ..population.personas import NameCues, PersonaTemplate, load_names, load_template, render_variant
from ..population.populations import Population
from ..specs import instruments as instruments_module
from ..specs.instruments import Instrument
from ..specs.prompt_layouts import PromptLayout, load_layout
from ..specs.yaml_files import load_spec, read_yaml
from .perturbations import ORIGINAL, check_paraphrases
from .presentation import Presentation


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    backend: str
    model: str | None = None
    answer_mode: AnswerMode = "distribution"
    temperature: float = 1.0
    replicates: int = 1
    max_tokens: int = 32
    free_text_reason: bool = False
    options: dict[str, Any] = Field(default_factory=dict)


class Weighting(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    target: Population
    method: str = "rake"
    variables: tuple[str, ...]


class Study(BaseModel):
    """A loaded study with every file it names resolved and validated."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    id: str
    title: str | None = None
    seed: int
    n: int
    sampling_method: str
    strata: tuple[str, ...] | None = None
    selection: dict | None = None
    weighting: Weighting | None = None
    population: Population
    instruments: tuple[Instrument, ...]
    persona_templates: tuple[PersonaTemplate, ...]
    cue_types: tuple[str, ...] = ("explicit",)
    names: NameCues | None = None
    prompt_layout: PromptLayout
    item_order: str
    presentations: dict[str, Presentation] = Field(default_factory=dict)
    perturbations: tuple[str, ...] = (ORIGINAL,)
    models: tuple[ModelSpec, ...]
    baseline_id: str | None = None
    spec: dict[str, Any]
    path: Path | None = None

    def presentation(self, instrument: Instrument | str) -> Presentation:
        """How an instrument is presented in this study (independent, one block of every item, by default)."""
        key = instrument if isinstance(instrument, str) else instrument.id
        return self.presentations[key]

    def input_files(self) -> dict[str, Path]:
        """Files this study reads, by the name they get in a run's inputs/ folder."""
        files = {f"population/{self.population.path.name}": self.population.path,
                 f"prompt_layout/{self.prompt_layout.path.name}": self.prompt_layout.path}
        for template in self.persona_templates:
            files[f"persona_templates/{template.path.name}"] = template.path
        if self.names is not None:
            files[f"name_cues/{self.names.path.name}"] = self.names.path
        if self.weighting is not None:
            files[f"weighting_target/{self.weighting.target.path.name}"] = self.weighting.target.path
        for instrument in self.instruments:
            files[f"instruments/{instrument.path.name}"] = instrument.path
        return files


def _check_models(models: list[dict], path: Path) -> None:
    """Every backend a registered name (the one registry), every model id unique."""
    for index, model in enumerate(models):
        if model["backend"] not in registry.REGISTRY:
            raise SpecError(f"models[{index}].backend: {model['backend']!r} is not a registered backend",
                            where=str(path), fix=f"use one of: {', '.join(registry.names())}")
    ids = [m["id"] for m in models]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SpecError(f"models: duplicate model id(s) {', '.join(duplicates)}", where=str(path),
                        fix="give every model entry its own id")


def _weighting(pop_spec: dict, population: Population, base_dir: Path, path: Path) -> Weighting | None:
    """The study's weighting to a target population on attributes both share, or None."""
    if "weighting" not in pop_spec:
        return None
    target = populations_module.load(pop_spec["weighting"]["target"], relative_to=base_dir)
    shared = [a for a in population.attribute_names if a in target.attribute_names]
    variables = tuple(pop_spec["weighting"].get("variables", shared))
    unknown = [v for v in variables if v not in shared]
    if unknown or not variables:
        raise SpecError(f"population.weighting.variables: {unknown or 'none'} are not attributes of both "
                        f"{population.id} and {target.id}", where=str(path), fix=f"shared attributes: {shared}")
    return Weighting(target=target, method=pop_spec["weighting"].get("method", "rake"), variables=variables)


CATALOGUE_SELECTION = ("categories", "per_category", "controls", "empty")


def catalogue_selection(pop_spec: dict, n: int | None) -> dict:
    """A catalogue study's selection (:meth:`~silicon_sample.population.populations.Population.select`):
    its ``categories``, ``per_category``, ``controls`` and ``empty``, and ``n`` regular personas (``--n``
    overrides the study's)."""
    selection = {key: pop_spec[key] for key in CATALOGUE_SELECTION if key in pop_spec}
    n = n if n is not None else pop_spec.get("n")
    return {**selection, **({"n": n} if n is not None else {})}


def _sampling(pop_spec: dict, population: Population, path: Path) -> tuple[str, tuple[str, ...] | None]:
    """The sampling method and its strata (attributes of the population; only with ``method: stratified``)."""
    method = pop_spec.get("method", "catalogue" if population.kind == "catalogue" else "quota")
    if (method == "catalogue") != (population.kind == "catalogue"):
        raise SpecError(f"population.method {method!r} does not fit the {population.kind} population {population.id}",
                        where=str(path), fix="leave method out for a catalogue population; use quota, stratified or "
                                             "microdata for the others")
    selection_keys = [k for k in CATALOGUE_SELECTION if k in pop_spec]
    if selection_keys and method != "catalogue":
        raise SpecError(f"population.{selection_keys[0]} selects from a catalogue population; {population.id} is "
                        f"{population.kind}", where=str(path), fix=f"remove {selection_keys[0]}")
    if method != "catalogue" and "n" not in pop_spec:
        raise SpecError("population.n: required (the number of personas)", where=str(path))
    strata = tuple(pop_spec["strata"]) if "strata" in pop_spec else None
    if strata:
        unknown = [s for s in strata if s not in population.attribute_names]
        if unknown:
            raise SpecError(f"population.strata: {', '.join(map(str, unknown))} is not an attribute of "
                            f"{population.id}", where=str(path),
                            fix=f"attributes: {', '.join(population.attribute_names)}")
        if method != "stratified":
            raise SpecError(f"population.strata are used only by method: stratified (this study's method is "
                            f"{method})", where=str(path), fix="add `method: stratified`, or remove strata")
    return method, strata


def cells_in_design(n_personas: int, templates, cue_types, perturbations, instruments, models) -> int:
    """The number of cells of a design: persona × style × cue type × perturbation × item × model replicate
    (the one formula; :func:`silicon_sample.design.cells.count_cells` applies it to a loaded study)."""
    return (n_personas * len(templates) * len(cue_types) * len(perturbations)
            * sum(len(i.items) for i in instruments) * sum(m.replicates for m in models))


def load_study(path: str | Path, *, n: int | None = None, data: dict | None = None,
               base_dir: Path | None = None) -> Study:
    """Load a study file. ``n`` overrides the study's sample size.

    ``data`` and ``base_dir`` load an already-parsed spec whose relative paths
    are resolved against ``base_dir`` (used when resuming from a run copy).
    """
    path = Path(path)
    if data is None:
        if not path.is_file():
            raise SpecError("study file not found", where=str(path), fix="check the path")
        data = load_spec(path, "study")
        base_dir = path.resolve().parent
    if n is not None and n < 1:
        raise SpecError(f"--n must be a positive whole number, got {n}", where="--n")
    base_dir = base_dir or Path.cwd()
    _check_models(data["models"], path)
    baseline = None
    if "baseline" in data:
        baseline = baselines.load(data["baseline"], relative_to=base_dir)
    instrument_names = data.get("instruments") or ([str(baseline.instrument.path)] if baseline else None)
    if not instrument_names:
        raise SpecError("instruments: name at least one instrument (or a baseline)", where=str(path))
    instruments = tuple(instruments_module.load(name, relative_to=base_dir) for name in instrument_names)
    inst_ids = [i.id for i in instruments]
    if len(set(inst_ids)) != len(inst_ids):
        raise SpecError("instruments: the same instrument is named twice", where=str(path))
    pop_spec = data["population"]
    if "name" not in pop_spec and baseline is None:
        raise SpecError("population.name: required (unless the study names a baseline)", where=str(path))
    population = populations_module.load(pop_spec.get("name") or str(baseline.population.path), relative_to=base_dir)
    if baseline is not None:
        if population.id != baseline.population.id:
            raise SpecError(f"population {population.id!r} is not the baseline's population "
                            f"{baseline.population.id!r}", where=str(path),
                            fix="leave population.name out: a matched study draws from its baseline's population")
        if baseline.instrument.id not in [i.id for i in instruments]:
            raise SpecError(f"the baseline's instrument {baseline.instrument.id!r} is not among the instruments",
                            where=str(path), fix="leave `instruments` out, or include it")
    if "persona_template" in data and "persona_styles" in data:
        raise SpecError("give persona_styles or persona_template, not both", where=str(path))
    styles = data.get("persona_styles") or [data.get("persona_template", "profile_list")]
    templates = tuple(load_template(style, relative_to=base_dir) for style in styles)
    if len({t.name for t in templates}) != len(templates):
        raise SpecError("persona_styles: two styles have the same name", where=str(path))
    cue_types = tuple(dict.fromkeys(data.get("cue_types", ["explicit"])))
    names = None
    if "name_cues" in data and "name" not in cue_types:
        raise SpecError("name_cues is given but cue_types has no `name`, so no name would be used",
                        where=str(path), fix="add `name` to cue_types, or remove name_cues")
    if "name" in cue_types:
        names = load_names(data.get("name_cues"), relative_to=base_dir)
        names.check_population(population.attributes)
    layout = load_layout(data.get("prompt_layout", "questionnaire"), relative_to=base_dir)
    weighting = _weighting(pop_spec, population, base_dir, path)
    method, strata = _sampling(pop_spec, population, path)
    selection = None
    if method == "catalogue":
        selection = catalogue_selection(pop_spec, n)
        probe = population.select(data["seed"], **selection)
        if probe.empty:
            raise SpecError("the selection has no persona", where=str(path), fix="select categories, controls or "
                                                                                  "the empty persona")
    else:
        # Draw and render one persona now so that sampling and template errors surface before a run starts.
        probe = population.sample(1, seed=data["seed"], method=method, strata=list(strata) if strata else None)
    for template in templates:
        for cue_type in cue_types:
            render_variant(template, probe.iloc[0].to_dict(), population.attributes, cue_type, names, data["seed"])
    models = tuple(ModelSpec(**m) for m in data["models"])
    item_order = data.get("item_order", "random")
    presentations = load_presentations(data.get("presentation", {}), instruments, item_order, models, path)
    perturbations = tuple(data.get("perturbations", [ORIGINAL]))
    check_perturbations(perturbations, instruments, models, presentations, path)
    size = len(probe) if selection is not None else n if n is not None else pop_spec["n"]
    n_cells = cells_in_design(size, templates, cue_types, perturbations, instruments, models)
    limit = max_cells()
    if n_cells > limit:
        raise SpecError(f"the study has {n_cells:,} cells ({size:,} personas), more than the limit of {limit:,}",
                        where="--n" if n is not None else f"{path}: population.n",
                        fix=f"draw fewer personas, or raise the limit with {MAX_CELLS_VARIABLE}=... (a run store "
                            "keeps about 1 KB per cell)")
    return Study(
        id=data["id"], title=data.get("title"), seed=data["seed"],
        n=size, sampling_method=method, strata=strata, weighting=weighting, selection=selection,
        population=population, instruments=instruments, persona_templates=templates, cue_types=cue_types,
        names=names, prompt_layout=layout, item_order=item_order, presentations=presentations,
        perturbations=perturbations, models=models, spec=data, path=path,
        baseline_id=baseline.id if baseline else None,
    )


def load_presentations(spec: dict, instruments: tuple[Instrument, ...], item_order: str,
                       models: tuple[ModelSpec, ...], path: Path) -> dict[str, Presentation]:
    """Each instrument's :class:`Presentation` from the study's ``presentation`` section (checked: known
    instruments, blocks covering every item once, no free-text reason in a battery)."""
    ids = [i.id for i in instruments]
    unknown = [k for k in spec if k not in ids]
    if unknown:
        raise SpecError(f"presentation: {unknown[0]!r} is not an instrument of the study", where=str(path),
                        fix=f"instruments: {', '.join(ids)}")
    presentations = {}
    for instrument in instruments:
        entry = spec.get(instrument.id, {})
        entry = {"mode": entry} if isinstance(entry, str) else dict(entry)
        where = f"presentation.{instrument.id}"
        blocks = entry.get("blocks")
        if blocks is not None:
            instruments_module.check_blocks(blocks, [i.id for i in instrument.items], str(path), f"{where}.blocks")
            blocks = tuple(instruments_module.Block(id=b["id"], items=tuple(b["items"])) for b in blocks)
        declared = blocks is not None or instrument.blocks is not None
        presentation = Presentation(mode=entry.get("mode", "independent"),
                                    blocks=blocks or instrument.item_blocks(),
                                    block_order=entry.get("block_order", item_order), declared_blocks=declared)
        if presentation.mode == "battery":
            reasons = [m.id for m in models if m.free_text_reason]
            if reasons:
                raise SpecError(f"{where}: a battery is answered as one object with a field per item, which has no "
                                f"room for a free-text reason (model {reasons[0]} asks for one)", where=str(path),
                                fix="set free_text_reason: false, or present this instrument independent or as a "
                                    "conversation")
        presentations[instrument.id] = presentation
    return presentations


def check_perturbations(perturbations: tuple[str, ...], instruments: tuple[Instrument, ...],
                        models: tuple[ModelSpec, ...], presentations: dict[str, Presentation], path: Path) -> None:
    """Perturbations every instrument and model can take: paraphrases where asked for, labels only in
    sample mode."""
    for name in perturbations:
        if name.startswith("instructions_paraphrase_"):
            for instrument in instruments:
                check_paraphrases(instrument, name, where=str(path))
        if name == "labels_only":
            reading = [m.id for m in models if m.answer_mode == "distribution"]
            if reading:
                raise SpecError(f"perturbations: labels_only needs sample mode (model {reading[0]} reads a next-token "
                                "distribution over option codes, and a label is several tokens)", where=str(path),
                                fix="set answer_mode: sample for every model, or leave labels_only out")


MAX_CELLS_VARIABLE = "SILICON_SAMPLE_MAX_CELLS"
DEFAULT_MAX_CELLS = 10_000_000


def max_cells() -> int:
    """The most cells a study may have: ``$SILICON_SAMPLE_MAX_CELLS``, else 10,000,000 (a run store of about
    10 GB), so a typo in ``n`` is refused at once instead of filling the memory and the disk."""
    value = os.environ.get(MAX_CELLS_VARIABLE)
    if value is None:
        return DEFAULT_MAX_CELLS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise SpecError(f"{MAX_CELLS_VARIABLE} must be a positive whole number, got {value!r}",
                        where=MAX_CELLS_VARIABLE, fix=f"e.g. export {MAX_CELLS_VARIABLE}=20000000")
    return limit


def read_study_text(path: Path) -> str:
    """The study file's text, checked to parse (kept verbatim in the run)."""
    read_yaml(path)
    return Path(path).read_text(encoding="utf-8")
