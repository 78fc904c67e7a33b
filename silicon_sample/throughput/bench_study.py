"""The study every bench measurement runs: bfi25 to ``n`` psych::bfi personas, for the given models."""

from __future__ import annotations

from pathlib import Path

import yaml


def bench_study(folder: Path, n: int, models: list[dict]) -> Path:
    """Write the bench's study file into ``folder`` and return its path."""
    spec = {"id": "bench", "seed": 20261124, "population": {"name": "psych_bfi", "n": n},
            "instruments": ["bfi25"], "item_order": "random", "models": models}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
