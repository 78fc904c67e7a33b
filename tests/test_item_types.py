"""Item types beyond single choice: the instrument format, the answer contracts (silicon_sample/answers.py)
and their prompts. Whole runs of every type are in tests/runner/test_item_type_runs.py."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silicon_sample.answers import (
    STATUSES,
    AnswerRequest,
    ChatMessage,
    Question,
    answers_from_output,
    grammar_schema,
    parse_output,
    request_schema,
)
from silicon_sample.errors import SpecError
from silicon_sample.specs import instruments
from silicon_sample.specs.prompt_layouts import load_layout

from support.studies import FIXTURES

MIXED = FIXTURES / "mixed_types.yaml"
THERMOMETER = Question(type="numeric", minimum=0, maximum=100, special=(998,))
CHECK_ALL = Question(type="multiple", options=(1, 2, 3, 9), min_selected=1, exclusive=(9,))
TOP_TWO = Question(type="rank", options=(1, 2, 3, 4), top=2)
OPEN = Question(type="text", max_length=40)


def ask(question: Question) -> AnswerRequest:
    return AnswerRequest(request_id="c1", messages=(ChatMessage(role="user", content="?"),),
                         options=question.options, mode="sample", seed=1, question=question)


def parsed(question: Question, answer) -> tuple:
    return parse_output(json.dumps({"answer": answer}), ask(question))[0][1:]


# -- the instrument file ------------------------------------------------------------------------------------

def test_every_type_loads_without_an_instrument_wide_scale():
    mixed = instruments.load(MIXED)
    assert mixed.response_scale is None
    assert mixed.item_types == {"therm_dem": "numeric", "race": "multiple", "mip": "text", "childqual": "rank",
                                "housemaj": "knowledge"}
    assert mixed.question_of("therm_dem") == Question(type="numeric", minimum=0, maximum=100)
    assert mixed.question_of("childqual").top == 3 and mixed.question_of("housemaj") is None
    assert mixed.item_ranges() == {"therm_dem": (0, 100), "housemaj": (0, 1)}
    assert mixed.knowledge_keys == {"housemaj": 2}


def test_single_choice_files_keep_working_unchanged():
    bfi = instruments.load("bfi25")
    assert all(item.type == "single" for item in bfi.items)
    assert bfi.question_of("A1") is None and bfi.n_options()["A1"] == 6


def write_instrument(tmp_path, **item) -> str:
    spec = {"id": "t", "name": "t", "citation": "c", "license": "l", "instructions": "i",
            "items": [{"id": "q1", "text": "Question?", **item}], "scoring": {"method": "mean", "scales": {}}}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


OPTIONS = {"options": [{"value": 1, "label": "Yes"}, {"value": 2, "label": "No"}]}
BAD_ITEMS = [
    ({"type": "numeric", "min": 100, "max": 0}, "min (100) must be below max (0)"),
    ({"type": "numeric", "min": 0}, "a numeric item needs max"),
    ({"type": "numeric", "min": 0, "max": 10, "step": 3}, "does not divide the range"),
    ({"type": "numeric", "min": 0, "max": 100, "special": [{"value": 50, "label": "Don't know"}]},
     "lies inside the range"),
    ({"type": "numeric", "min": 0, "max": 10, "response_scale": OPTIONS}, "a numeric item has no options"),
    ({"type": "multiple", "max_selected": 1, "response_scale": OPTIONS}, "is a single-choice item"),
    ({"type": "multiple", "response_scale": {"options": [{"value": 1, "label": "None", "exclusive": True},
                                                         {"value": 2, "label": "Neither", "exclusive": True}]}},
     "every option is exclusive"),
    ({"type": "multiple", "min_selected": 3, "response_scale": OPTIONS}, "cannot be met with 2 options"),
    ({"type": "multiple"}, "needs options"),
    ({"type": "rank", "rank_top": 3, "response_scale": OPTIONS}, "is more than the 2 options"),
    ({"type": "knowledge", "response_scale": OPTIONS}, "needs `correct:`"),
    ({"correct": 1, "response_scale": OPTIONS}, "only a knowledge item has 'correct'"),
    ({"type": "text", "scale": "x"}, "cannot be scored on a scale"),
    ({"response_scale": {"options": [{"value": 1, "label": "a", "exclusive": True}, {"value": 2, "label": "b"}]}},
     "only a multiple item's option can be"),
]


@pytest.mark.parametrize("item, message", BAD_ITEMS, ids=[m for _, m in BAD_ITEMS])
def test_an_impossible_item_is_refused_with_where_and_how_to_fix(tmp_path, item, message):
    with pytest.raises(SpecError) as caught:
        instruments.load(write_instrument(tmp_path, **item))
    assert message in caught.value.what and "items[0]" in caught.value.what
    assert caught.value.where and (caught.value.fix or "scale" in item)


def test_a_rank_of_one_option_is_refused_by_the_schema(tmp_path):
    with pytest.raises(SpecError) as caught:
        instruments.load(write_instrument(tmp_path, type="rank", rank_top=1, response_scale=OPTIONS))
    assert "rank_top" in caught.value.what


# -- the answer contracts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("answer, expected", [
    (50, ("answered", 50.0, None)), (50.0, ("answered", 50.0, None)), (998, ("answered", 998.0, None)),
    (0, ("answered", 0.0, None)), (100, ("answered", 100.0, None)),
    (101, ("invalid", None, "output does not match the answer schema: 101 is outside the range 0 to 100")),
    (50.5, ("invalid", None, "output does not match the answer schema: 50.5 is not a whole number")),
    ("50", ("invalid", None, "output does not match the answer schema: Input should be a valid integer")),
    ("50 degrees", ("invalid", None, "output does not match the answer schema: Input should be a valid integer")),
    (True, ("invalid", None, "output does not match the answer schema: Input should be a valid integer")),
])
def test_a_numeric_answer_is_a_number_in_range_never_clipped_or_read_from_digits(answer, expected):
    assert parsed(THERMOMETER, answer) == expected


def test_a_numeric_answer_on_a_step_grid():
    half = Question(type="numeric", minimum=0, maximum=5, integer=False, step=0.5)
    assert parsed(half, 2.5) == ("answered", 2.5, None)
    assert parsed(half, 2.25)[0] == "invalid" and "steps of 0.5" in parsed(half, 2.25)[2]


@pytest.mark.parametrize("answer, status, reason", [
    ([3, 1], "answered", None), ([9], "answered", None),
    ([1, 9], "invalid", "option 9 cannot be chosen together with other options"),
    ([], "invalid", "0 option(s) chosen; choose from 1 to 4"),
    ([2, 2], "invalid", "an option is named more than once"),
    ([7], "invalid", "[7] is not an option"),
    (2, "invalid", "Input should be a valid array"),
])
def test_a_check_all_answer(answer, status, reason):
    got = parsed(CHECK_ALL, answer)
    assert got[0] == status
    assert (got[1] == tuple(sorted(answer))) if status == "answered" else reason in got[2]


def test_a_ranking_keeps_its_order_and_names_each_option_once():
    assert parsed(TOP_TWO, [4, 1]) == ("answered", (4, 1), None)
    assert "1 option(s) ranked; rank 2" in parsed(TOP_TWO, [4])[2]
    assert "more than once" in parsed(TOP_TWO, [4, 4])[2]
    assert "not an option" in parsed(TOP_TWO, [4, 5])[2]


def test_open_ended_text_is_kept_verbatim_to_its_limit_and_a_refusal_is_refused():
    assert parsed(OPEN, "Inflation and the cost of living.") == ("answered", "Inflation and the cost of living.",
                                                                None)
    long = "The economy, health care, immigration and the national debt."
    assert parsed(OPEN, long) == ("answered", long[:40], f"cut to 40 of {len(long)} characters")
    assert parsed(OPEN, "I'm sorry, but I can't share personal opinions.") == ("refused", None,
                                                                             "the model declined to answer")
    assert parsed(OPEN, 5)[0] == "invalid"


def test_answers_carry_their_kind_and_a_battery_checks_each_field_by_its_own_contract():
    from silicon_sample.answers import BatteryField

    battery = AnswerRequest(request_id="b", messages=(), options=(1, 2), mode="sample", seed=1, battery=(
        BatteryField(request_id="x", key="q1", options=(1, 2)),
        BatteryField(request_id="y", key="q2", options=(), question=THERMOMETER),
        BatteryField(request_id="z", key="q3", options=(1, 2, 3, 9), question=CHECK_ALL)))
    got = answers_from_output(battery, '{"q1": 2, "q2": 140, "q3": [2, 1]}')
    assert [(a.kind, a.status, a.value) for a in got] == [("code", "answered", 2), ("number", "invalid", None),
                                                          ("selection", "answered", (1, 2))]
    assert got[1].reason == "field 'q2': 140 is outside the range 0 to 100"


def test_the_grammar_lists_a_numeric_items_allowed_values_and_the_schema_keeps_the_range():
    schema = request_schema(ask(THERMOMETER))["properties"]["answer"]
    assert schema["anyOf"] == [{"type": "integer", "minimum": 0, "maximum": 100}, {"enum": [998]}]
    assert grammar_schema(ask(THERMOMETER))["properties"]["answer"]["enum"] == [*range(101), 998]
    decimal = Question(type="numeric", minimum=0, maximum=1, integer=False)
    assert grammar_schema(ask(decimal))["properties"]["answer"]["type"] == "number"   # no grid: the range stays
    ranking = request_schema(ask(TOP_TWO))["properties"]["answer"]
    assert (ranking["minItems"], ranking["maxItems"], ranking["items"]) == (2, 2, {"enum": [1, 2, 3, 4]})


hostile = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner,
                                                                                   max_size=3), max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=hostile | st.lists(st.integers(-2, 12), max_size=6) | st.integers(-5, 1005),
       question=st.sampled_from([THERMOMETER, CHECK_ALL, TOP_TWO, OPEN]),
       wrapped=st.booleans())
def test_whatever_comes_back_is_a_valid_answer_or_a_reason(answer, question, wrapped):
    raw = json.dumps({"answer": answer} if wrapped else answer)
    (got,) = answers_from_output(ask(question), raw)
    assert got.status in STATUSES and got.kind == question.kind
    if got.status == "answered":
        assert question.check(list(got.value) if isinstance(got.value, tuple) else got.value) is not None
    else:
        assert got.reason and got.value is None


# -- prompts ------------------------------------------------------------------------------------------------

def test_each_type_is_put_with_its_own_answer_format():
    mixed = instruments.load(MIXED)
    layout = load_layout()
    system = {item.id: layout.messages("PERSONA", mixed, item)[0].content for item in mixed.items}
    assert "A whole number from 0 to 100 degrees.\n50 = the 50 degree mark\nReply with one whole number from 0 to " \
           "100." in system["therm_dem"]
    assert "Reply with the numbers of all options that apply (at least 1 and at most 6), as a list." in system["race"]
    assert "Reply in your own words, in at most 200 characters." in system["mip"]
    assert "Reply with the numbers of the 3 options you rank highest in order" in system["childqual"]
    assert "1 = Democrats\n2 = Republicans\nReply with the number of one option." in system["housemaj"]
    shared = layout.battery_message(mixed, list(mixed.items), [f"q{n}" for n in range(1, 6)]).content
    assert "For this question: A whole number from 0 to 100 degrees.; 50 = the 50 degree mark" in shared


def test_knowledge_items_enter_reliability_and_scales_as_right_or_wrong(tmp_path):
    """Two knowledge items keyed 1 and 2: respondents right on both or wrong on both make a reliable scale
    of right answers — on the raw codes the two items would correlate negatively."""
    import pandas as pd

    from silicon_sample.report.summary import reliability_table
    from silicon_sample.tidy.results import scored_answers

    spec = {"id": "quiz", "name": "quiz", "citation": "c", "license": "l", "instructions": "i",
            "response_scale": {"options": [{"value": 1, "label": "A"}, {"value": 2, "label": "B"}]},
            "items": [{"id": "k1", "text": "One?", "type": "knowledge", "correct": 1, "scale": "know"},
                      {"id": "k2", "text": "Two?", "type": "knowledge", "correct": 2, "scale": "know"},
                      {"id": "k3", "text": "Three?", "type": "knowledge", "correct": 1, "scale": "know"}],
            "scoring": {"method": "mean", "scales": {"know": {"name": "Knowledge"}}}}
    path = tmp_path / "quiz.yaml"
    path.write_text(yaml.safe_dump(spec))
    quiz = instruments.load(path)
    right = [1, 2, 1]
    wrong = [2, 1, 2]
    rows = [right] * 12 + [wrong] * 8 + [[1, 1, 1]] * 3
    wide = pd.DataFrame(rows, columns=["k1", "k2", "k3"]).assign(
        model="m", persona_style="s", cue_type="c", perturbation="original")
    scored = scored_answers(wide[["k1", "k2", "k3"]].astype(float), quiz, {i: i for i in ("k1", "k2", "k3")})
    assert scored.iloc[0].tolist() == [1.0, 1.0, 1.0] and scored.iloc[12].tolist() == [0.0, 0.0, 0.0]
    table = reliability_table(wide.assign(know=scored.mean(axis=1)), {"quiz": quiz})
    assert table["alpha"].iloc[0] > 0.8
