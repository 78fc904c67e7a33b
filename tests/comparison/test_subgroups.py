"""Subgroup contrasts and pattern correspondence."""

import numpy as np
import pandas as pd
import pytest

from support.human_data import bfi_with_scales


def test_subgroup_contrast_d_by_hand():
    from silicon_sample.comparison.subgroups import pattern_correspondence

    human = pd.DataFrame({"g": ["a", "a", "a", "b", "b", "b"], "y": [1, 2, 3, 3, 4, 5]})
    silicon = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [2, 4, 3, 5]})
    table = pattern_correspondence(human, silicon, ["g"], ["y"], min_n=2, categories={"g": ["a", "b"]})
    row = table.loc[("g", "b vs a", "y")]
    assert row["d_human"] == pytest.approx(2.0)                 # means 4 vs 2, pooled SD 1
    se = np.sqrt(6 / 9 + 4 / 12)
    assert row["ci_low_human"] == pytest.approx(2 - 1.96 * se)
    assert row["d_silicon"] == pytest.approx(1 / np.sqrt(2))    # means 4 vs 3, pooled SD sqrt(2)
    assert row["human_difference"] and row["sign_reproduced"] and not row["size_reproduced"]


def test_pattern_correspondence_of_bfi_with_itself_and_with_gender_shuffled():
    from silicon_sample.comparison.subgroups import pattern_correspondence, pattern_summary

    bfi, keys = bfi_with_scales()
    order = {"gender": ["male", "female"]}
    itself = pattern_correspondence(bfi, bfi, ["gender"], list(keys), categories=order)
    n_women = itself.loc[("gender", "female vs male", "neuroticism")]
    assert n_women["d_human"] > 0.2 and n_women["human_difference"]          # women higher on N in psych::bfi
    summary = pattern_summary(itself)
    assert summary["sign_agreement"] == 1 and summary["size_agreement"] == 1
    assert summary["d_correlation"] == pytest.approx(1.0)
    shuffled = bfi.assign(gender=np.random.default_rng(5).permutation(bfi["gender"].to_numpy()))
    broken = pattern_correspondence(bfi, shuffled, ["gender"], list(keys), categories=order)
    assert broken["size_reproduced"].sum() < len(broken)       # the sizeable human differences are lost
    assert broken.loc[("gender", "female vs male", "agreeableness"), "size_reproduced"] == False  # noqa: E712


def _subgroup_metrics_one_at_a_time(human, silicon, attributes, outcomes, options, wh, ws, categories):
    """The per-cell definition (one attribute × category × outcome at a time, through item_fidelity's
    functions): the reference the vectorised subgroup_metrics must equal."""
    from silicon_sample.comparison.item_fidelity import (
        cohens_d,
        d_interval,
        js_distance,
        option_distribution,
        representativeness,
        weighted_moments,
    )
    from silicon_sample.comparison.subgroups import categories_of

    rows = []
    for attribute in attributes:
        for category in categories_of(human[attribute], silicon[attribute], (categories or {}).get(attribute)):
            in_h, in_s = (human[attribute] == category).to_numpy(), (silicon[attribute] == category).to_numpy()
            for outcome in outcomes:
                xh = pd.to_numeric(human[outcome], errors="coerce").to_numpy(dtype=float)[in_h]
                xs = pd.to_numeric(silicon[outcome], errors="coerce").to_numpy(dtype=float)[in_s]
                row = {"attribute": attribute, "category": category, "outcome": outcome,
                       "n_human": int((~np.isnan(xh)).sum()), "n_silicon": int((~np.isnan(xs)).sum()),
                       "mean_human": np.nan, "mean_silicon": np.nan, "d": np.nan, "d_low": np.nan, "d_high": np.nan,
                       "representativeness": np.nan, "js_distance": np.nan}
                if row["n_human"] and row["n_silicon"]:
                    row["mean_human"] = weighted_moments(xh, wh[in_h])[0]
                    row["mean_silicon"] = weighted_moments(xs, ws[in_s])[0]
                    if row["n_human"] > 1 and row["n_silicon"] > 1:
                        row["d"] = cohens_d(xs, xh, ws[in_s], wh[in_h])
                        row["d_low"], row["d_high"] = d_interval(row["d"], row["n_silicon"], row["n_human"])
                    if outcome in options:
                        ph = option_distribution(xh, options[outcome], wh[in_h])
                        ps = option_distribution(xs, options[outcome], ws[in_s])
                        row["representativeness"] = representativeness(ph, ps)
                        row["js_distance"] = js_distance(ph, ps)
                rows.append(row)
    return pd.DataFrame(rows).set_index(["attribute", "category", "outcome"])


def _bfi_split():
    """(900 bfi respondents as the humans, the next 100 as the silicon sample with 40 blanks in A1 and no woman
    answering C2, the scale keys); education as text categories."""
    bfi, keys = bfi_with_scales()
    human = bfi.iloc[:900].assign(education=lambda f: f["education"].fillna(0).astype(int).astype(str))
    silicon = bfi.iloc[900:1000].assign(education=lambda f: f["education"].fillna(0).astype(int).astype(str))
    silicon.loc[silicon.index[:40], "A1"] = np.nan
    silicon.loc[silicon["gender"] == "female", "C2"] = np.nan          # no woman answered C2
    return human, silicon, keys


def test_subgroup_metrics_equal_the_one_at_a_time_definition():
    """Weighted, with missing answers, a category of one silicon respondent, one with no silicon respondent,
    an item nobody in a group answered, a constant item and scale scores without options."""
    from silicon_sample.comparison.subgroups import subgroup_metrics

    human, silicon, keys = _bfi_split()
    rng = np.random.default_rng(3)
    silicon["O1"] = 4                                                  # no variation at all
    silicon = silicon[silicon["education"] != "1"]
    silicon = pd.concat([silicon, human.iloc[[0]].assign(education="9")])   # a category of one, silicon only
    human = human.assign(education=human["education"].replace("2", "8"))     # a category the silicon lacks
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    options = {item: [1, 2, 3, 4, 5, 6] for item in items}
    wh, ws = rng.uniform(0.2, 3, len(human)), rng.uniform(0.2, 3, len(silicon))
    order = {"gender": ["male", "female"]}
    for outcomes in (items, list(keys)):
        fast = subgroup_metrics(human, silicon, ["gender", "education"], outcomes, options, wh, ws, order)
        slow = _subgroup_metrics_one_at_a_time(human, silicon, ["gender", "education"], outcomes, options, wh, ws,
                                               order)
        assert list(fast.index) == list(slow.index)
        assert (fast[["n_human", "n_silicon"]] == slow[["n_human", "n_silicon"]]).all().all()
        pd.testing.assert_frame_equal(fast.drop(columns=["n_human", "n_silicon"]),
                                      slow.drop(columns=["n_human", "n_silicon"]), rtol=1e-10, atol=1e-12,
                                      check_dtype=False)
    items_table = subgroup_metrics(human, silicon, ["gender", "education"], items, options, wh, ws, order)
    assert np.isnan(items_table.loc[("gender", "female", "C2"), "representativeness"])     # nobody answered
    assert np.isfinite(items_table.loc[("gender", "male", "C2"), "representativeness"])
    assert np.isnan(items_table.loc[("education", "9", "A2"), "d"])                        # one respondent
    assert items_table.loc[("education", "8", "A2"), "n_silicon"] == 0


def _contrast_one_at_a_time(x1, w1, x0, w0, min_n: int) -> tuple[float, float, float, str]:
    """(d, se, n_eff total, note) of group 1 − group 0."""
    from silicon_sample.comparison.item_fidelity import cohens_d, d_standard_error, weighted_moments

    n1, n0 = int((~np.isnan(x1)).sum()), int((~np.isnan(x0)).sum())
    if min(n1, n0) < min_n:
        return np.nan, np.nan, n1 + n0, f"fewer than {min_n} respondents on one side ({n1} vs {n0})"
    d = cohens_d(x1, x0, w1, w0)
    ne1, ne0 = weighted_moments(x1, w1)[2], weighted_moments(x0, w0)[2]
    if not np.isfinite(d):
        return np.nan, np.nan, ne1 + ne0, "no variation within the groups"
    return float(d), d_standard_error(d, ne1, ne0), ne1 + ne0, ""



def _pattern_correspondence_one_at_a_time(human, silicon, attributes, outcomes, human_weights=None,
                                          silicon_weights=None, tolerance=0.2, min_n=5, categories=None):
    """The per-outcome definition (one contrast × outcome at a time through item_fidelity's functions, the
    table built row by row): the reference the vectorised pattern_correspondence must equal."""
    from silicon_sample.comparison.subgroups import _weights, categories_of, contrasts_of

    def _numeric(frame: pd.DataFrame, columns: list[str]) -> dict[str, np.ndarray]:
        return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in columns}

    wh, ws = _weights(human, human_weights), _weights(silicon, silicon_weights)

    def contrasts(frame: pd.DataFrame, numeric: dict[str, np.ndarray], w: np.ndarray, attribute: str, category,
                  reference) -> list[tuple]:
        values = frame[attribute]
        one = (values == category).to_numpy()
        zero = (values == reference).to_numpy() if reference is not None else (values.notna() & ~one).to_numpy()
        return [_contrast_one_at_a_time(numeric[o][one], w[one], numeric[o][zero], w[zero], min_n) for o in outcomes]

    numeric_s = _numeric(silicon, outcomes)
    rows = []
    for attribute in attributes:
        present = categories_of(human[attribute], silicon[attribute], (categories or {}).get(attribute))
        for label, category, reference in contrasts_of(present):
            sides = {"human": contrasts(human, _numeric(human, outcomes), wh, attribute, category, reference),
                     "silicon": contrasts(silicon, numeric_s, ws, attribute, category, reference)}
            for index, outcome in enumerate(outcomes):
                row = {"attribute": attribute, "contrast": label, "outcome": outcome}
                notes = []
                for source, results in sides.items():
                    d, se, _, note = results[index]
                    row.update({f"d_{source}": d, f"ci_low_{source}": d - 1.96 * se,
                                f"ci_high_{source}": d + 1.96 * se})
                    if note:
                        notes.append(f"{source}: {note}")
                counted = bool(row["ci_low_human"] > 0 or row["ci_high_human"] < 0)
                row["human_difference"] = counted
                row["silicon_difference"] = bool(row["ci_low_silicon"] > 0 or row["ci_high_silicon"] < 0)
                comparable = counted and np.isfinite(row["d_silicon"])
                row["sign_reproduced"] = (bool(np.sign(row["d_silicon"]) == np.sign(row["d_human"]))
                                          if comparable else pd.NA)
                row["size_reproduced"] = (bool(abs(row["d_silicon"] - row["d_human"]) <= tolerance)
                                          if comparable else pd.NA)
                row["note"] = "; ".join(notes)
                rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for column in ("sign_reproduced", "size_reproduced"):
        table[column] = table[column].astype("boolean")
    return table.set_index(["attribute", "contrast", "outcome"])


def test_pattern_correspondence_equals_the_one_at_a_time_definition():
    """Weighted, with missing answers, a contrast with too few respondents on one side, an outcome without
    variation in a silicon group, a two-category attribute (one contrast) and one with several (each vs rest)."""
    from silicon_sample.comparison.subgroups import pattern_correspondence

    human, silicon, keys = _bfi_split()
    rng = np.random.default_rng(5)
    silicon.loc[silicon["gender"] == "male", "O1"] = 4                # no variation among the men
    silicon = silicon[silicon["education"] != "1"]
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    wh, ws = rng.uniform(0.2, 3, len(human)), rng.uniform(0.2, 3, len(silicon))
    order = {"gender": ["male", "female"]}
    for outcomes in (items, list(keys)):
        fast = pattern_correspondence(human, silicon, ["gender", "education"], outcomes, wh, ws, categories=order)
        slow = _pattern_correspondence_one_at_a_time(human, silicon, ["gender", "education"], outcomes, wh, ws,
                                                     categories=order)
        assert list(fast.index) == list(slow.index) and list(fast.columns) == list(slow.columns)
        pd.testing.assert_frame_equal(fast, slow, rtol=1e-10, atol=1e-12, check_dtype=False)
        assert (fast.dtypes == slow.dtypes).all()
    table = pattern_correspondence(human, silicon, ["gender", "education"], items, wh, ws, categories=order)
    assert table.loc[("gender", "female vs male", "C2"), "note"].startswith("silicon: fewer than 5")
    assert table.loc[("gender", "female vs male", "C2"), "sign_reproduced"] is pd.NA


def _pattern_summary_with_frames(table):
    """pattern_summary as first written, on DataFrame filters: the reference of the array version."""
    counted = table[table["human_difference"] & table["sign_reproduced"].notna()]
    both = table[["d_human", "d_silicon"]].dropna()
    r = (float(np.corrcoef(both["d_human"], both["d_silicon"])[0, 1])
         if len(both) > 2 and both["d_silicon"].std() > 0 and both["d_human"].std() > 0 else np.nan)
    return {"human_differences": int(table["human_difference"].sum()),
            "sign_agreement": float(counted["sign_reproduced"].mean()) if len(counted) else np.nan,
            "size_agreement": float(counted["size_reproduced"].mean()) if len(counted) else np.nan,
            "d_correlation": r}


def test_pattern_summary_equals_its_frame_definition():
    from silicon_sample.comparison.subgroups import pattern_correspondence, pattern_summary

    bfi, _ = bfi_with_scales()
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    rng = np.random.default_rng(2)
    order = {"gender": ["male", "female"]}
    for size in (8, 30, 200):                  # too few personas for most contrasts … plenty
        silicon = bfi.sample(size, random_state=int(rng.integers(1000)))
        table = pattern_correspondence(bfi, silicon, ["gender", "education"], items, categories=order)
        fast, slow = pattern_summary(table), _pattern_summary_with_frames(table)
        for key, value in slow.items():
            assert fast[key] == pytest.approx(value, nan_ok=True), (size, key)


def test_tables_of_one_shape_share_no_index_and_keep_categories_of_different_types_apart():
    """The anchors' resampled tables reuse one cached index per shape: renaming one table's levels leaves the
    next table alone, and the categories 1 and True (equal in Python) keep their own labels."""
    from silicon_sample.comparison.subgroups import pattern_correspondence, subgroup_metrics

    human, silicon, _ = _bfi_split()
    outcomes = ["A1", "A2"]
    first = subgroup_metrics(human, silicon, ["gender"], outcomes)
    first.index.names = ["a", "b", "c"]
    second = subgroup_metrics(human, silicon, ["gender"], outcomes)
    assert list(second.index.names) == ["attribute", "category", "outcome"]
    assert second.index.equals(first.index)

    def coded(as_type):
        return [frame.assign(g=(frame["gender"] == "female").astype(as_type)) for frame in (human, silicon)]

    flags, codes = subgroup_metrics(*coded(bool), ["g"], outcomes), subgroup_metrics(*coded(int), ["g"], outcomes)
    assert {type(c) for c in flags.index.get_level_values("category")} == {bool}
    assert {type(c) for c in codes.index.get_level_values("category")} == {int}
    assert set(pattern_correspondence(*coded(bool), ["g"], outcomes).index.get_level_values(1)) == {"True vs False"}
    assert set(pattern_correspondence(*coded(int), ["g"], outcomes).index.get_level_values(1)) == {"1 vs 0"}
