"""Perturbations: each changes how the instrument is shown, never the codes recorded."""

import pytest

from silicon_sample.answers import Answer, AnswerRequest, BatteryField, parse_output, parse_structured
from silicon_sample.design.cells import battery_request, build_cells, build_request, draw_personas, unit_cells
from silicon_sample.design.perturbations import dont_know_answer, dont_know_code, perturbed
from silicon_sample.design.study import load_study
from silicon_sample.errors import SpecError
from silicon_sample.specs import instruments

from support.studies import write_study

BFI = instruments.load("bfi25")
TIPI = instruments.load("tipi")


def test_options_reversed_lists_the_scale_backwards_with_the_same_codes():
    shown = perturbed(BFI, "options_reversed").response_scale
    assert shown.describe().splitlines() == list(reversed(BFI.response_scale.describe().splitlines()))
    assert sorted(shown.values) == sorted(BFI.response_scale.values)


def test_numbers_only_labels_the_two_ends_and_labels_only_shows_no_codes():
    numbers = perturbed(BFI, "numbers_only").response_scale.describe()
    assert numbers == "1, 2, 3, 4, 5, 6 (where 1 = Very Inaccurate and 6 = Very Accurate)"
    labels = perturbed(BFI, "labels_only").response_scale
    assert labels.describe().splitlines()[0] == "Very Inaccurate" and not any(c.isdigit() for c in labels.describe())
    assert "exactly as it is written" in labels.reply()


def test_paraphrases_replace_the_instructions_and_an_instrument_without_them_is_refused(tmp_path):
    assert perturbed(TIPI, "instructions_paraphrase_2").instructions == TIPI.instruction_paraphrases[1]
    assert perturbed(TIPI, "instructions_paraphrase_1").items == TIPI.items
    with pytest.raises(SpecError, match="has no instruction_paraphrases"):
        load_study(write_study(tmp_path, perturbations=["original", "instructions_paraphrase_1"]))


def test_dont_know_gets_a_code_of_its_own_and_choosing_it_is_recorded_as_dont_know():
    assert dont_know_code([1, 2, 3, 4, 5, 6]) == 8
    assert dont_know_code(list(range(0, 9))) == 9
    assert dont_know_code(list(range(0, 11))) == 98
    shown = perturbed(BFI, "dont_know").response_scale
    assert shown.values[-1] == 8 and shown.describe().endswith("8 = Don't know")
    chosen = dont_know_answer(Answer(request_id="c", status="answered", value=8, probabilities={1: .2, 8: .8}), 8)
    assert chosen.status == "dont_know" and chosen.value is None and chosen.probabilities == {1: .2, 8: .8}
    kept = dont_know_answer(Answer(request_id="c", status="answered", value=3), 8)
    assert kept.status == "answered" and kept.value == 3


def test_labels_only_is_answered_with_a_label_recorded_as_its_code_and_needs_sample_mode(tmp_path):
    study = load_study(write_study(tmp_path, mode="sample", perturbations=["labels_only"]))
    cell = unit_cells(study, "smollm2", "P0001", "profile_list", "explicit", "labels_only", "bfi25", 1)[0]
    request = build_request(study, study.models[0], cell, "persona")
    assert request.option_labels == tuple(o.label for o in BFI.response_scale.options)
    assert parse_structured('{"answer": "Slightly Accurate"}', request.options, labels=request.option_labels) == \
        ("answered", 4, None)
    assert parse_structured('{"answer": 4}', request.options, labels=request.option_labels)[0] == "invalid"
    with pytest.raises(SpecError, match="labels_only needs sample mode"):
        load_study(write_study(tmp_path / "d", mode="distribution", perturbations=["labels_only"]))


def test_perturbations_are_crossed_like_styles_and_named_in_the_cell_id(tmp_path):
    study = load_study(write_study(tmp_path, n=2, perturbations=["original", "options_reversed", "dont_know"]))
    personas, _ = draw_personas(study)
    cells = build_cells(study, personas)
    assert len(cells) == 2 * 3 * 25
    assert cells.groupby("perturbation").size().to_dict() == {"dont_know": 50, "options_reversed": 50,
                                                               "original": 50}
    original = cells[cells["perturbation"] == "original"].iloc[0]
    assert "/original/" not in original["cell_id"]                  # ids of unperturbed studies are unchanged
    reversed_ = cells[(cells["perturbation"] == "options_reversed") & (cells["item_id"] == original["item_id"])
                      & (cells["persona_id"] == original["persona_id"])].iloc[0]
    assert "/options_reversed/bfi25/" in reversed_["cell_id"] and reversed_["seed"] != original["seed"]
    assert reversed_["position"] == original["position"]            # the order is a persona-level factor


def test_a_battery_is_one_request_with_a_field_per_item_in_the_order_shown(tmp_path):
    study = load_study(write_study(tmp_path, mode="sample", presentation={"bfi25": {"mode": "battery", "blocks": [
        {"id": "first", "items": ["A1", "A2", "A3"]},
        {"id": "rest", "items": [i.id for i in BFI.items if i.id not in ("A1", "A2", "A3")]}]}}))
    cells = [c for c in unit_cells(study, "smollm2", "P0001", "profile_list", "explicit", "original", "bfi25", 1)
             if c["block"] == "first"]
    request = battery_request(study, study.models[0], cells, "persona")
    assert [f.request_id for f in request.battery] == [c["cell_id"] for c in cells]
    assert [f.key for f in request.battery] == ["q1", "q2", "q3"]
    shown = request.messages[-1].content.splitlines()
    assert shown[:3] == [f"{n}. {BFI.item(c['item_id']).text}" for n, c in enumerate(cells, start=1)]
    assert "q1, q2, q3" in request.messages[-1].content


def test_a_missing_or_invalid_field_marks_only_its_own_item():
    request = AnswerRequest(request_id="b", messages=(), options=(1, 2, 3), mode="sample", seed=1, battery=(
        BatteryField(request_id="c1", key="q1", options=(1, 2, 3)),
        BatteryField(request_id="c2", key="q2", options=(1, 2, 3)),
        BatteryField(request_id="c3", key="q3", options=(1, 2, 3))))
    parsed = {rid: (status, value) for rid, status, value, _ in parse_output('{"q1": 2, "q3": 7}', request)}
    assert parsed == {"c1": ("answered", 2), "c2": ("invalid", None), "c3": ("invalid", None)}
    assert {status for _, status, _, _ in parse_output("not json", request)} == {"invalid"}
