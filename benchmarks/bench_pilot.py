"""Throughput of the main job on the embedded model (prints figures; asserts nothing).

Runs studies/pilot_bfi.yaml with a reduced number of personas and extrapolates
to the study's full size. Usage: make bench  (or: python benchmarks/bench_pilot.py [N])
"""

import sys
import tempfile
import time
from pathlib import Path

import silicon_sample as ss
from silicon_sample.design.study import load_study

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "studies" / "pilot_bfi.yaml"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    full = load_study(STUDY)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        store = ss.run(STUDY, Path(tmp) / "run", n=n)
        elapsed = time.perf_counter() - started
        cells = int(store.status_counts()["total"].sum())
    per_cell = elapsed / cells
    full_cells = full.n * sum(len(i.items) for i in full.instruments) * sum(m.replicates for m in full.models)
    print(f"pilot_bfi, {n} personas: {cells} cells in {elapsed:.1f} s "
          f"({cells / elapsed:.2f} cells/s, {1000 * per_cell:.0f} ms/cell, including model load and outputs)")
    print(f"extrapolated full study ({full.n} personas, {full_cells} cells): {full_cells * per_cell / 60:.1f} min")


if __name__ == "__main__":
    main()
