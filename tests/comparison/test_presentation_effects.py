"""Order effects by position tercile, and robustness across perturbations."""

import numpy as np
import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.comparison.presentation_effects import ALL_ITEMS, position_terciles, robustness

from support.studies import write_study

SOURCE = {"model": "m", "persona_style": "profile_list", "cue_type": "explicit", "perturbation": "original"}


def synthetic_long(presentation: str, drift: float, n: int = 60, k: int = 6, seed: int = 1) -> pd.DataFrame:
    """``n`` personas answering ``k`` items in a random order each; answers rise by ``drift`` per position."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n):
        for position, item in enumerate(rng.permutation(k), start=1):
            answer = int(np.clip(round(3 + item * 0.2 + drift * position + rng.normal(0, 0.5)), 1, 7))
            rows.append({**SOURCE, "persona_id": f"P{p}", "replicate": 1, "instrument": "x",
                         "presentation": presentation, "item_id": f"I{item}", "position": position,
                         "answer": answer, "status": "answered", "weight": 1.0})
    return pd.DataFrame(rows)


def test_a_drift_over_the_questionnaire_shows_in_the_terciles_and_none_is_found_without_one():
    table = position_terciles(synthetic_long("conversation", drift=0.4))
    overall = table.xs(ALL_ITEMS, level="item").iloc[0]
    assert overall["mean_1"] < overall["mean_2"] < overall["mean_3"]
    assert overall["last_minus_first_low"] > 1.0                         # 4 positions apart × 0.4 per position
    assert (table["n_1"] + table["n_2"] + table["n_3"]).xs(ALL_ITEMS, level="item").iloc[0] == 60 * 6
    flat = position_terciles(synthetic_long("battery", drift=0.0)).xs(ALL_ITEMS, level="item").iloc[0]
    assert flat["last_minus_first_low"] < 0 < flat["last_minus_first_high"]
    assert position_terciles(synthetic_long("independent", drift=0.4)).empty    # no context, no order effect


def test_robustness_is_the_range_of_each_figure_over_the_perturbations():
    index = pd.MultiIndex.from_tuples([("m", "s", "explicit", p, item) for p in ("original", "options_reversed")
                                       for item in ("A1", "A2")],
                                      names=["model", "persona_style", "cue_type", "perturbation", "item"])
    items = pd.DataFrame({"mean_silicon": [3.0, 4.0, 3.5, 2.0]}, index=index)
    table = robustness({"items": items})
    a1 = table.loc[("m", "s", "explicit", "item mean", "A1")]
    assert a1["spread"] == pytest.approx(0.5) and a1["value_options_reversed"] == 3.5
    assert table.loc[("m", "s", "explicit", "item mean", "A2"), "spread"] == pytest.approx(2.0)
    assert a1["furthest_from_original"] == "options_reversed"
    assert robustness({"items": items.xs("original", level="perturbation", drop_level=False)}).empty


@pytest.mark.slow
def test_compare_and_rank_report_order_effects_and_robustness_of_a_battery_run(tmp_path, private_cache):
    blocks = [{"id": s, "items": [f"{s[0].upper()}{k}" for k in range(1, 6)]}
              for s in ("agree", "consc", "extra", "neuro", "open")]
    study = write_study(tmp_path, n=4, presentation={"bfi25": {"mode": "battery", "blocks": blocks}},
                        perturbations=["original", "options_reversed"])
    store = ss.run(study, tmp_path / "run", progress=False)
    tables = ss.compare(store.dir, "psych_bfi", invariance=False, bootstrap=20, repetitions=2)
    order = tables["order_effects"]
    assert set(order.index.get_level_values("perturbation")) == {"original", "options_reversed"}
    assert (order.xs(ALL_ITEMS, level="item")[["n_1", "n_2", "n_3"]].sum(axis=1) == 4 * 25).all()
    robust = tables["robustness"]
    means = tables["items"]["mean_silicon"].unstack("perturbation")
    spread = (means.max(axis=1) - means.min(axis=1)).droplevel(["model", "persona_style", "cue_type"])
    shown = robust.xs("item mean", level="kind")["spread"].droplevel(["model", "persona_style", "cue_type"])
    assert np.allclose(shown.reindex(spread.index), spread)
    ranking = ss.rank([store.dir], "psych_bfi", invariance=False, bootstrap=20, repetitions=2)
    assert len(ranking) == 2 and ranking["score_spread"].nunique() == 1
    assert np.isclose(ranking["score_spread"].iloc[0], ranking["score"].max() - ranking["score"].min())
