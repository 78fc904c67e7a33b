"""The set-up of one instrument's comparison with its human baseline, computed once and shared by every
table and figure of it (:mod:`.tables`, :mod:`.anchors`): the items answered with a code (single-choice and
knowledge items) and their options, each item's range, keys, the scoring method, the persona attributes
compared, knowledge items' right answers, numeric items' special codes, and the humans with their scale
scores. Numeric items are compared by :mod:`.numeric_fidelity`."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    correct: dict[str, int] = field(default_factory=dict)        # knowledge items: the right answer's code
    special: dict[str, tuple] = field(default_factory=dict)      # numeric items: codes that are missing values
    # the anchors' human ceilings by sample size and settings (:func:`.anchors.human_ceiling`), shared by pairs
    human_ceilings: dict[tuple, object] = field(default_factory=dict)

    @property
    def items(self) -> list[str]:
        return list(self.options)

    @property
    def attributes(self) -> list[str]:
        return list(self.categories)

    @property
    def outcomes(self) -> list[str]:
        return list(self.keys) if self.keys else self.items


def scored_items(frame: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """The item columns as a scale score takes them: a knowledge item 1 when right and 0 when wrong (missing
    when not answered), a numeric item's special codes missing; other items as they are."""
    columns = {}
    for item, code in setting.correct.items():
        if item in frame:
            values = pd.to_numeric(frame[item], errors="coerce").astype(float)
            columns[item] = (values == code).astype(float).where(values.notna())
    for item, codes in setting.special.items():
        if item in frame:
            values = pd.to_numeric(frame[item], errors="coerce").astype(float)
            columns[item] = values.where(~values.isin(codes))
    return frame.assign(**columns) if columns else frame


def with_scale_scores(frame: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """``frame`` with its scale scores computed from its item answers (:func:`scored_items`)."""
    if not setting.keys:
        return frame
    scores = scale_scores(scored_items(frame, setting), setting.keys, setting.ranges,
                          setting.method)[list(setting.keys)]
    return pd.concat([frame.drop(columns=[k for k in setting.keys if k in frame.columns]), scores], axis=1)


def setting_for(human: pd.DataFrame, instrument, categories: dict[str, list] | None = None) -> Setting:
    """The :class:`Setting` of an instrument and its human baseline (scale scores added to the humans)."""
    options = {item.id: instrument.scale_of(item).values for item in instrument.coded_items}
    keys = {s: k for s, k in instrument.keys().items() if len(k) >= 2}
    special = {item.id: tuple(float(o.value) for o in item.special) for item in instrument.items if item.special}
    setting = Setting(human=human, options=options, ranges=instrument.item_ranges(), keys=keys,
                      method=instrument.scoring.method, categories=dict(categories or {}),
                      correct=instrument.knowledge_keys, special=special)
    setting.human = with_scale_scores(human, setting)
    return setting


__all__ = ["Setting", "scored_items", "setting_for", "with_scale_scores"]
