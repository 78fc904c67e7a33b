"""Study files and the command line, for tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MINI5 = str(FIXTURES / "mini5.yaml")  # five bfi items: fast runs on the real model


def write_study(folder: Path, *, n: int = 3, seed: int = 7, mode: str = "distribution", instruments=("bfi25",),
                replicates: int = 1, temperature: float = 1.0, item_order: str = "random", **extra) -> Path:
    """Write a small study file and return its path."""
    spec = {
        "id": "test_study", "seed": seed,
        "population": {"name": "psych_bfi", "n": n},
        "instruments": list(instruments), "item_order": item_order,
        "models": [{"id": "smollm2", "backend": "embedded", "answer_mode": mode,
                    "temperature": temperature, "replicates": replicates}],
        **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def openai_study(folder: Path, server, mode: str, n: int = 2, instruments=(MINI5,), **model_options) -> Path:
    """A study whose one model is an OpenAI-compatible ``server`` (a llama.cpp server or a proxy before it)."""
    return write_study(folder, n=n, instruments=instruments, models=[{
        "id": "smollm2-server", "backend": "openai", "model": server.alias, "answer_mode": mode,
        "temperature": 0.7, "options": {"base_url": server.base_url, **model_options}}])


def cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed `silicon-sample` command."""
    return subprocess.run([sys.executable, "-m", "silicon_sample", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
