"""Perturbations: small changes in how an instrument is shown, crossed with the persona styles.

Answers to survey questions move with option order, with how the scale is labelled, with the wording of
the instructions and with an explicit "Don't know" (Schuman & Presser, 1981, *Questions and answers in
attitude surveys*; Krosnick & Fabrigar, 1997). A study that lists ``perturbations`` asks every persona every
item under each of them (a within-persona factor, like the persona styles); ``compare`` and ``rank`` then
report how far item means and normalized scores spread across them.

Each perturbation returns a changed copy of the instrument; the option codes never change, so answers
are comparable across perturbations:

========================= ===========================================================================
``original``              the instrument as written
``options_reversed``      the options listed in reverse order (codes unchanged)
``numbers_only``          the codes in one line with the two end points labelled (a numeric scale with
                          no label at all would not say which end is which)
``labels_only``           the labels alone; the answer is a label, recorded as its code (sample mode
                          only: a label is several tokens, so no next-token distribution reads it)
``instructions_paraphrase_1``, ``_2``  the instrument's ``instruction_paraphrases`` in place of its
                          instructions (an instrument without them cannot be perturbed this way)
``dont_know``             "Don't know" offered after the scale with its own code (:func:`dont_know_code`);
                          choosing it is recorded with status ``dont_know`` (no value)
========================= ===========================================================================

The scale perturbations change single-choice and knowledge items. A check-all-that-apply or rank item's
options are nominal: ``options_reversed`` reverses them, and the other three leave them as written (codes
alone, or labels answered as text, would not say which options were chosen; a "Don't know" option would be
one more option to check). Numeric and open-ended items have no options and are shown as written (a
numeric item declares its own "Don't know" as a ``special`` code).
"""

from __future__ import annotations

from ..answers import Answer
from ..errors import SpecError
from ..specs.instruments import Instrument, ResponseOption, ResponseScale, dont_know_code

ORIGINAL = "original"
PERTURBATIONS: dict[str, str] = {
    ORIGINAL: "the instrument as written",
    "options_reversed": "options listed in reverse order (codes unchanged)",
    "numbers_only": "option codes only, the two end points labelled",
    "labels_only": "option labels only; the answer is a label",
    "instructions_paraphrase_1": "the instructions in their first paraphrase",
    "instructions_paraphrase_2": "the instructions in their second paraphrase",
    "dont_know": "\"Don't know\" offered after the scale",
}
DONT_KNOW_LABEL = "Don't know"


def _scale(scale: ResponseScale, name: str) -> ResponseScale:
    if name == "options_reversed":
        return scale.model_copy(update={"options": tuple(reversed(scale.options))})
    if name == "numbers_only":
        return scale.model_copy(update={"display": "numbers_only"})
    if name == "labels_only":
        return scale.model_copy(update={"display": "labels_only"})
    if name == "dont_know":
        option = ResponseOption(value=dont_know_code(scale.values), label=DONT_KNOW_LABEL)
        return scale.model_copy(update={"options": (*scale.options, option)})
    return scale


def perturbed(instrument: Instrument, name: str) -> Instrument:
    """The instrument as shown under perturbation ``name`` (see the module docstring)."""
    if name == ORIGINAL:
        return instrument
    if name.startswith("instructions_paraphrase_"):
        check_paraphrases(instrument, name)
        index = int(name.rsplit("_", 1)[1]) - 1
        return instrument.model_copy(update={"instructions": instrument.instruction_paraphrases[index]})
    items = tuple(_item(item, name, instrument.response_scale) for item in instrument.items)
    shared = _scale(instrument.response_scale, name) if instrument.response_scale else None
    return instrument.model_copy(update={"response_scale": shared, "items": items})


def _item(item, name: str, shared: ResponseScale | None):
    """An item under a scale perturbation (see the module docstring for which types it changes)."""
    if item.type in ("numeric", "text") or item.type in ("multiple", "rank") and name != "options_reversed":
        if item.type in ("multiple", "rank") and item.response_scale is None and shared is not None:
            return item.model_copy(update={"response_scale": shared})   # keeps the options as written
        return item
    return item.model_copy(update={"response_scale": _scale(item.response_scale, name)}) if item.response_scale \
        else item


def check_paraphrases(instrument: Instrument, name: str, where: str | None = None) -> None:
    index = int(name.rsplit("_", 1)[1])
    if not instrument.instruction_paraphrases or len(instrument.instruction_paraphrases) < index:
        raise SpecError(f"perturbation {name} needs paraphrases of the instructions, and instrument "
                        f"{instrument.id!r} has no instruction_paraphrases", where=where or str(instrument.path),
                        fix="add `instruction_paraphrases:` (two paraphrases) to the instrument, or leave this "
                            "perturbation out")


def dont_know_answer(answer: Answer, code: int) -> Answer:
    """An answer whose value is the "Don't know" code, recorded as ``dont_know`` (the probabilities of a
    distribution-mode answer, "Don't know" included, are kept)."""
    if answer.status != "answered" or answer.value != code:
        return answer
    return answer.model_copy(update={"status": "dont_know", "value": None,
                                     "reason": f"chose \"{DONT_KNOW_LABEL}\" (code {code})"})


__all__ = ["DONT_KNOW_LABEL", "ORIGINAL", "PERTURBATIONS", "dont_know_answer", "dont_know_code", "perturbed"]
