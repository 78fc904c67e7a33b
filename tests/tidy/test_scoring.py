import numpy as np
import pandas as pd

from silicon_sample.tidy.scoring import scale_scores

RANGES = {"A1": (1, 6), "A2": (1, 6), "A3": (1, 6)}


def test_reverse_keyed_items_are_mirrored_on_their_scale():
    answers = pd.DataFrame({"A1": [1, 6, 3], "A2": [6, 1, 4], "A3": [5, 2, 4]})
    scores = scale_scores(answers, {"a": ["-A1", "A2", "A3"]}, RANGES)
    assert scores["a"].tolist() == [(6 + 6 + 5) / 3, (1 + 1 + 2) / 3, (4 + 4 + 4) / 3]
    assert scores["a_n"].tolist() == [3, 3, 3]


def test_mean_leaves_out_unanswered_items_and_sum_refuses_partial_scales():
    answers = pd.DataFrame({"A1": [np.nan, 2], "A2": [5, np.nan], "A3": [3, np.nan]})
    mean = scale_scores(answers, {"a": ["A1", "A2", "A3"]}, RANGES)
    assert mean["a"].tolist() == [4.0, 2.0] and mean["a_n"].tolist() == [2, 1]
    total = scale_scores(answers, {"a": ["A1", "A2", "A3"]}, RANGES, method="sum")
    assert total["a"].isna().all()
    complete = scale_scores(pd.DataFrame({"A1": [1], "A2": [2], "A3": [3]}), {"a": ["-A1", "A2", "A3"]}, RANGES,
                            method="sum")
    assert complete["a"].tolist() == [11.0]
