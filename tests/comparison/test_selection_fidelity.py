"""Check-all and rank items compared with humans (silicon_sample/comparison/selection_fidelity.py): rates and
places by hand, a copy of the humans near the ceiling, random answers near the floor."""

import numpy as np
import pandas as pd
import pytest

from silicon_sample.comparison.selection_fidelity import compare_ranks, compare_selections

CODES = (1, 2, 3, 4)


def humans_checking(n=400, seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    chosen = rng.random((n, 4)) < np.array([0.8, 0.5, 0.2, 0.05])
    frame = pd.DataFrame(chosen.astype(float), columns=[f"m_{c}" for c in CODES]).assign(weight=1.0)
    frame.loc[:9, [f"m_{c}" for c in CODES]] = np.nan                 # ten who did not answer
    return frame


def humans_ranking(n=400, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        order = rng.choice(CODES, size=2, replace=False, p=[0.5, 0.3, 0.15, 0.05])   # the top 2 of 4
        rows.append({f"r_rank_{c}": (list(order).index(c) + 1.0 if c in order else np.nan) for c in CODES})
    return pd.DataFrame(rows).assign(weight=1.0)


def test_selection_rates_by_hand_and_the_summary_between_floor_and_ceiling():
    human = humans_checking()
    copy = human.iloc[10:].sample(150, random_state=1).reset_index(drop=True)
    rng = np.random.default_rng(5)
    random = pd.DataFrame((rng.random((150, 4)) < 0.5).astype(float), columns=[f"m_{c}" for c in CODES]).assign(
        weight=1.0)
    near = compare_selections(human, copy, {"m": CODES}, repetitions=10)
    far = compare_selections(human, random, {"m": CODES}, repetitions=10)
    answered = human.iloc[10:]
    assert near.loc[("m", "1"), "rate_human"] == pytest.approx(answered["m_1"].mean())   # the ten left out
    assert near.loc[("m", "1"), "n_human"] == pytest.approx(390)
    summary = near.loc[("m", "number chosen")]
    assert summary["mean_human"] == pytest.approx(answered[[f"m_{c}" for c in CODES]].sum(axis=1).mean())
    assert summary["normalized"] > 0.5 and far.loc[("m", "number chosen"), "normalized"] < 0.5
    assert summary["floor_random"] > summary["ceiling"]
    low, high = near.loc[("m", "2"), ["rate_silicon_low", "rate_silicon_high"]]
    assert low < near.loc[("m", "2"), "rate_silicon"] < high


def test_mean_places_and_the_share_ranking_each_option():
    human = humans_ranking()
    copy = human.sample(150, random_state=2).reset_index(drop=True)
    table = compare_ranks(human, copy, {"r": CODES}, top={"r": 2}, repetitions=10)
    first = human["r_rank_1"]
    assert table.loc[("r", "1"), "ranked_human"] == pytest.approx(first.notna().mean())
    assert table.loc[("r", "1"), "mean_place_human"] == pytest.approx(first.mean())
    reversed_ = copy.rename(columns={f"r_rank_{c}": f"r_rank_{5 - c}" for c in CODES})
    far = compare_ranks(human, reversed_, {"r": CODES}, top={"r": 2}, repetitions=10)
    assert table.loc[("r", "all"), "normalized"] > 0.5 > far.loc[("r", "all"), "normalized"]


def test_a_baseline_of_check_all_and_rank_answers_is_compared_with_a_run(tmp_path):
    """A baseline file holding a check-all item as 0/1 columns and a rank item as place columns (as wide
    results hold them), compared with a run of the same instrument on the loopback server."""
    import yaml

    import silicon_sample as ss
    from silicon_sample.throughput.loopback import LoopbackServer

    from support.studies import FIXTURES, write_study

    spec = yaml.safe_load((FIXTURES / "mixed_types.yaml").read_text())
    spec["items"] = [i for i in spec["items"] if i["type"] in ("multiple", "rank")]
    spec["scoring"]["scales"] = {}
    instrument = tmp_path / "choices.yaml"
    instrument.write_text(yaml.safe_dump(spec, sort_keys=False))
    rng = np.random.default_rng(8)
    n = 300
    data = {f"race_{c}": (rng.random(n) < p).astype(float) for c, p in zip(range(1, 7), (.7, .2, .05, .1, .02, .05))}
    data["race_1"][(data["race_1"] + data["race_2"] + data["race_3"] + data["race_4"] + data["race_5"]
                    + data["race_6"]) == 0] = 1.0                       # at least one chosen
    places = np.full((n, 5), np.nan)
    for r in range(n):
        order = rng.choice(5, size=3, replace=False, p=[0.1, 0.05, 0.4, 0.3, 0.15])
        places[r, order] = [1, 2, 3]
    data.update({f"childqual_rank_{c}": places[:, c - 1] for c in range(1, 6)})
    data.update(gender=rng.choice([1, 2], n), age=rng.integers(18, 80, n), education=rng.integers(1, 6, n))
    pd.DataFrame(data).to_csv(tmp_path / "people.csv", index=False)
    population = yaml.safe_load(open(ss.load_population("psych_bfi").path))
    population.update(id="people", data={"file": "people.csv"})
    (tmp_path / "people.yaml").write_text(yaml.safe_dump(population, sort_keys=False))
    (tmp_path / "baseline.yaml").write_text(yaml.safe_dump({
        "id": "people_choices", "name": "test", "source": "synthetic test answers", "instrument": str(instrument),
        "population": str(tmp_path / "people.yaml"), "data": {"file": "people.csv"}}))
    base = ss.load_baseline(tmp_path / "baseline.yaml")
    assert base.data["race_1"].mean() == pytest.approx(data["race_1"].mean())
    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=6, instruments=(str(instrument),), models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "answer_mode": "sample",
            "options": {"base_url": server.url}}])
        store = ss.run(study, tmp_path / "run", fresh=True, progress=False)
    tables = ss.compare(store.dir, tmp_path / "baseline.yaml", repetitions=3, invariance=False)
    selections, ranks = tables["selections"], tables["ranks"]
    assert selections.xs("race", level="item").xs("1", level="option")["rate_human"].iloc[0] == pytest.approx(
        data["race_1"].mean())
    assert np.isfinite(selections.xs("number chosen", level="option")["normalized"]).all()
    assert ranks.xs("3", level="option")["mean_place_human"].iloc[0] == pytest.approx(
        np.nanmean(places[:, 2]))
