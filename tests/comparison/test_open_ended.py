"""The keyword coder and coder agreement (silicon_sample/comparison/open_ended.py), checked against the
krippendorff package and a hand computation."""

import numpy as np
import pandas as pd
import pytest

from silicon_sample.comparison.open_ended import code_shares, coder_agreement, keyword_codes
from silicon_sample.errors import SpecError
from silicon_sample.specs import codebooks

from support.studies import FIXTURES

BOOK = codebooks.load(FIXTURES / "mip_codebook.yaml")


def test_keywords_code_each_answer_and_say_which_keyword_decided():
    texts = pd.Series(["The economy and jobs.", "Health care costs too much", "Corrupt politicians",
                       "Crime in the streets", "", None, "ECONOMIC inequality"])
    coded = keyword_codes(texts, BOOK)
    assert coded["code"].tolist()[:4] == [1, 2, 3, 9] and coded["code"].isna().tolist()[4:6] == [True, True]
    assert coded["code"].iloc[6] == 1 and coded["matched"].tolist()[:2] == ["econom\\w*", "health ?care"]
    assert "Economy" == BOOK.label_of(1) and BOOK.codes == (1, 2, 3, 9)


def test_alpha_equals_krippendorffs_nominal_alpha_with_an_interval_around_it():
    import krippendorff

    rng = np.random.default_rng(4)
    truth = rng.integers(1, 4, 120)
    a = np.where(rng.random(120) < 0.85, truth, rng.integers(1, 4, 120))
    b = np.where(rng.random(120) < 0.7, truth, rng.integers(1, 4, 120)).astype(float)
    b[:5] = np.nan                                   # uncoded by one coder: missing for that coder
    table = coder_agreement(pd.DataFrame({"a": a, "b": b, "c": truth}), bootstrap=300, seed=1)
    expected = krippendorff.alpha(reliability_data=np.vstack([a, b]), level_of_measurement="nominal")
    row = table.loc["a / b"]
    assert row["alpha"] == pytest.approx(expected) and row["n_answers"] == 115      # 5 coded by one coder only
    assert row["alpha_low"] < row["alpha"] < row["alpha_high"]
    assert table.loc["all coders", "coders"] == 3 and table.loc["a / c", "alpha"] > row["alpha"]
    # a hand check of nominal alpha on a tiny table: 1 - D_o / D_e
    tiny = coder_agreement(pd.DataFrame({"x": [1, 1, 2, 2], "y": [1, 2, 2, 2]}), bootstrap=0)
    pairs = [(1, 1), (1, 2), (2, 2), (2, 2)]
    values = [v for p in pairs for v in p]
    n = len(values)
    observed = sum(2 * (u != v) for u, v in pairs) / n
    expected_d = sum(values.count(c) * (n - values.count(c)) for c in set(values)) / (n * (n - 1))
    assert tiny.loc["x / y", "alpha"] == pytest.approx(1 - observed / expected_d)


def test_shares_are_weighted_and_bad_codebooks_are_refused(tmp_path):
    shares = code_shares(pd.Series([1, 1, 2, None]), (1, 2, 9), pd.Series([1.0, 1.0, 2.0, 5.0]))
    assert shares.tolist() == [0.5, 0.5, 0.0]
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: b\nname: b\nitems: [mip]\ncategories:\n  - {code: 1, label: A, keywords: ['(']}\n"
                   "  - {code: 2, label: B}\n")
    with pytest.raises(SpecError, match="is not a regular expression"):
        codebooks.load(bad)
    bad.write_text("id: b\nname: b\nitems: [mip]\ncategories:\n  - {code: 1, label: A}\n  - {code: 1, label: B}\n")
    with pytest.raises(SpecError, match="codes must be distinct"):
        codebooks.load(bad)
