"""Drift between two runs of the same study: paired differences against test-retest noise."""

import numpy as np
import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.comparison.drift import drift_table

from support.human_data import BFI_ITEMS, bfi_with_scales
from support.studies import MINI5, cli, write_study


def respondents(frame):
    return frame.assign(persona_id=[f"P{i:04d}" for i in range(len(frame))], model="m",
                        persona_style="profile_list", cue_type="explicit", replicate=1)


def test_a_shifted_item_drifts_and_answers_asked_again_do_not():
    bfi, _ = bfi_with_scales()
    a = respondents(bfi.dropna(subset=BFI_ITEMS).head(600))
    shifted = a.assign(N1=np.minimum(a["N1"] + 1, 6))
    table = drift_table(a, shifted, BFI_ITEMS, dict.fromkeys(BFI_ITEMS, [1, 2, 3, 4, 5, 6]))
    assert table.loc[("m", "profile_list", "explicit", "original", "N1"), "drifted"]
    assert table["drifted"].sum() == 1
    assert table.loc[("m", "profile_list", "explicit", "original", "N1"), "difference"] > 0.7
    # asked again: each answer moves by one step at random, in either direction (no clipping, which would
    # push answers at the ends inward and so shift the means)
    rng = np.random.default_rng(5)
    again = a.copy()
    again[BFI_ITEMS] = a[BFI_ITEMS] + rng.choice([-1, 0, 1], size=(len(a), 25))
    noise = drift_table(a, again, BFI_ITEMS)
    assert noise["drifted"].sum() <= 3                     # about 5% of 25 by chance, no more
    assert (noise["ci_low"] <= noise["difference"]).all() and (noise["sd_difference"] > 0).all()


@pytest.mark.slow
def test_two_runs_of_a_study_on_the_embedded_model_compare_by_respondent(tmp_path):
    study = write_study(tmp_path, n=3, instruments=(MINI5,))
    first, second = ss.run(study, tmp_path / "a"), ss.run(study, tmp_path / "b")
    table, versions = ss.drift(first.dir, second.dir, output=tmp_path / "drift")
    assert len(table) == 5 + 5 and (table["n"] == 3).all()           # five items and five one-item scales
    assert not table["drifted"].any() and np.allclose(table["difference"], 0)   # same seeds, same answers
    assert versions.loc[("a", "smollm2"), "manifest_version"] == versions.loc[("b", "smollm2"), "manifest_version"]
    assert {p.name for p in (tmp_path / "drift").iterdir()} == {"drift.csv", "versions.csv", "manifest.json"}
    assert len(pd.read_csv(tmp_path / "drift" / "drift.csv")) == 10
    printed = cli("compare", first.dir, "--against", second.dir)
    assert printed.returncode == 0 and "0 of 10 items and scales drifted" in printed.stdout
    other = write_study(tmp_path / "other", n=3, instruments=(MINI5,))
    other.write_text(other.read_text().replace("id: test_study", "id: another_study"))
    third = ss.run(other, tmp_path / "c")
    refused = cli("compare", first.dir, "--against", third.dir)
    assert refused.returncode == 2 and "different studies" in refused.stderr
    neither = cli("compare", first.dir)
    assert neither.returncode != 0 and "--baseline" in neither.stderr
