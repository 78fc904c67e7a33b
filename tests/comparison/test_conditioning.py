"""Persona conditioning against control styles, and the consistency of explicit and name cues."""

import numpy as np
import pandas as pd
import pytest

from silicon_sample.comparison.conditioning import conditioning_summary, conditioning_table, cue_consistency

from support.human_data import bfi_with_scales

SUBGROUPS = {"gender": ["male", "female"], "education": ["1", "2", "3", "4", "5"]}


@pytest.fixture(scope="module")
def bfi():
    frame, keys = bfi_with_scales()
    frame = frame.dropna(subset=["gender", "education"]).assign(education=lambda f: f["education"].astype(int)
                                                                .astype(str))
    return frame, list(keys)


def silicon(personas, answers_from, style, cue="explicit"):
    """Personas (their attributes) answering with the outcome columns of ``answers_from`` (same length)."""
    frame = personas.copy()
    frame[answers_from.columns] = answers_from.to_numpy()
    return frame.assign(model="m", persona_style=style, cue_type=cue)


def test_a_persona_that_carries_its_subgroup_beats_a_control_that_does_not(bfi):
    human, scales = bfi
    personas = human.sample(800, random_state=1)
    real = silicon(personas, personas[scales], "profile_list")             # answers of the very respondents
    generic = silicon(personas, personas[scales].sample(frac=1, random_state=2), "none")   # anyone's answers
    table = conditioning_table(human, pd.concat([real, generic]), SUBGROUPS, scales)
    gender = table.xs(("none", "gender"), level=("control", "attribute"))
    assert (gender["improvement"] > 0).all() and gender["closer"].all()
    summary = conditioning_summary(table).iloc[0]
    assert summary["moves_toward_subgroups"] and summary["share_closer"] > 0.5
    backwards = conditioning_table(human, pd.concat([silicon(personas, generic[scales], "profile_list"),
                                                     silicon(personas, real[scales], "assistant_control")]),
                                   SUBGROUPS, scales)
    assert not conditioning_summary(backwards).iloc[0]["moves_toward_subgroups"]
    assert conditioning_table(human, real, SUBGROUPS, scales).empty        # no control style crossed in


def test_two_cues_that_carry_the_same_group_shift_answers_alike(bfi):
    human, scales = bfi
    personas = human.sample(1200, random_state=3)
    explicit = silicon(personas, personas[scales], "profile_list", "explicit")
    named = silicon(personas, personas[scales], "profile_list", "name")
    alike = cue_consistency(pd.concat([explicit, named]), SUBGROUPS, scales, cued=["gender"])
    assert alike.loc[("m", "profile_list"), "r_explicit_name"] == pytest.approx(1.0)
    lost = named.assign(**{s: np.random.default_rng(4).permutation(named[s].to_numpy()) for s in scales})
    unlike = cue_consistency(pd.concat([explicit, lost]), SUBGROUPS, scales)
    assert unlike.loc[("m", "profile_list"), "r_explicit_name"] < 0.6
