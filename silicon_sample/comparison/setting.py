"""The set-up of one instrument's comparison with its human baseline, computed once and shared by every
table and figure of it (:mod:`.tables`, :mod:`.anchors`): items, options, each item's range, keys, the
scoring method, the persona attributes compared, and the humans with their scale scores."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..psychometrics.scoring import scale_scores


@dataclass
class Setting:
    """What the figures of one instrument need, computed once: items, options, keys, the human side."""

    human: pd.DataFrame
    options: dict[str, list[int]]
    ranges: dict[str, tuple[int, int]]
    keys: dict[str, list[str]]
    method: str
    categories: dict[str, list]
    # one-factor loadings of ``human`` by (scale, ordinal), cached across pairs
    human_loadings: dict[tuple[str, bool], np.ndarray | None] = field(default_factory=dict)

    @property
    def items(self) -> list[str]:
        return list(self.options)

    @property
    def attributes(self) -> list[str]:
        return list(self.categories)

    @property
    def outcomes(self) -> list[str]:
        return list(self.keys) if self.keys else self.items


def with_scale_scores(frame: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """``frame`` with its scale scores computed from its item answers."""
    if not setting.keys:
        return frame
    scores = scale_scores(frame, setting.keys, setting.ranges, setting.method)[list(setting.keys)]
    return pd.concat([frame.drop(columns=[k for k in setting.keys if k in frame.columns]), scores], axis=1)


def setting_for(human: pd.DataFrame, instrument, categories: dict[str, list] | None = None) -> Setting:
    """The :class:`Setting` of an instrument and its human baseline (scale scores added to the humans)."""
    options = {item.id: instrument.scale_of(item).values for item in instrument.items}
    keys = {s: k for s, k in instrument.keys().items() if len(k) >= 2}
    setting = Setting(human=human, options=options, ranges=instrument.item_ranges(), keys=keys,
                      method=instrument.scoring.method,
                      categories=dict(categories or {}))
    setting.human = with_scale_scores(human, setting)
    return setting


__all__ = ["Setting", "setting_for", "with_scale_scores"]
