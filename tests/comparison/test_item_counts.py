"""The per-item comparison from weighted option counts read in chunks equals the one from whole rows, and
tidy results read in chunks equal the whole table."""

import numpy as np
import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.comparison.item_counts import add_counts, count_options, items_from_counts
from silicon_sample.comparison.item_fidelity import compare_items
from silicon_sample.population import baselines
from silicon_sample.tidy.results import iter_long_results, iter_wide_results, long_results, wide_results

from support.studies import write_study

pytestmark = pytest.mark.usefixtures("private_cache")


def test_counts_in_chunks_give_the_items_table_of_whole_rows_with_weights():
    rng = np.random.default_rng(3)
    base = baselines.load("psych_bfi")
    items = ["A1", "N3"]
    silicon = pd.DataFrame({"persona_id": np.repeat([f"P{i}" for i in range(40)], 2),
                            "item_id": items * 40, "answer": rng.integers(1, 7, 80), "status": "answered",
                            "weight": np.repeat(rng.uniform(0.3, 3, 40), 2), "model": "m",
                            "persona_style": "s", "cue_type": "explicit", "perturbation": "original"})
    silicon.loc[5, "status"] = "refused"
    counts = None
    for start in range(0, 80, 14):                                   # chunks cut anywhere add up
        counts = add_counts(counts, count_options(silicon.iloc[start:start + 14]))
    options = {i: [1, 2, 3, 4, 5, 6] for i in items}
    table = items_from_counts(base.data, counts, options, base.data["weight"]).droplevel(
        ["model", "persona_style", "cue_type", "perturbation"])
    answered = silicon[silicon["status"] == "answered"]
    wide = answered.pivot(index="persona_id", columns="item_id", values="answer")
    weights = answered.drop_duplicates("persona_id").set_index("persona_id")["weight"].reindex(wide.index)
    expected = compare_items(base.data, wide.astype(float), options, base.data["weight"], weights)
    # per item the rows are the personas who answered it
    for item in items:
        one = wide[[item]].dropna()
        exact = compare_items(base.data, one.astype(float), {item: options[item]}, base.data["weight"],
                              weights.reindex(one.index)).loc[item]
        pd.testing.assert_series_equal(table.loc[item, exact.index].astype(float), exact.astype(float),
                                       check_names=False, rtol=1e-10)
    assert set(expected.columns) == set(table.columns)


@pytest.mark.slow
def test_a_run_read_in_chunks_gives_the_whole_tables_and_the_full_comparisons_items(tmp_path):
    store = ss.run(write_study(tmp_path, n=5, perturbations=["original", "dont_know"]), tmp_path / "run",
                   progress=False)
    whole = long_results(store)
    chunked = pd.concat(list(iter_long_results(store, chunk=2)), ignore_index=True)
    pd.testing.assert_frame_equal(chunked, whole)
    assert "p_8" in chunked.columns                                    # "Don't know" has its column in every chunk
    pd.testing.assert_frame_equal(pd.concat(list(iter_wide_results(store, chunk=2)), ignore_index=True),
                                  wide_results(store))
    full = ss.compare(store.dir, "psych_bfi", invariance=False, anchors=False)["items"]
    counted = ss.compare(store.dir, "psych_bfi", items_only=True)["items"]
    columns = [c for c in full.columns if c in counted.columns]
    pd.testing.assert_frame_equal(counted[columns].sort_index(), full[columns].sort_index(), rtol=1e-9,
                                  check_dtype=False)
    csv, parquet = tmp_path / "long.csv", tmp_path / "long.parquet"
    assert ss.export(store.dir, csv)["rows"] == len(whole) == ss.export(store.dir, parquet)["rows"]
    assert pd.read_parquet(parquet)["cell_id"].tolist() == whole["cell_id"].tolist()
    assert pd.read_csv(csv)["answer"].sum() == whole["answer"].sum()
