"""Blocks, block order and item order per respondent, and what every cell records of them."""

import pytest
import yaml

from silicon_sample.answers import Answer
from silicon_sample.design.cells import build_cells, draw_personas, unit_cells
from silicon_sample.design.presentation import conversation_turn, shown_order
from silicon_sample.design.study import load_study
from silicon_sample.errors import SpecError
from silicon_sample.seeds import rng_for

from support.studies import MINI5, write_study

BLOCKS = [{"id": "agree", "items": ["A1", "A2", "A3", "A4", "A5"]},
          {"id": "consc", "items": ["C1", "C2", "C3", "C4", "C5"]},
          {"id": "extra", "items": ["E1", "E2", "E3", "E4", "E5"]},
          {"id": "neuro", "items": ["N1", "N2", "N3", "N4", "N5"]},
          {"id": "open", "items": ["O1", "O2", "O3", "O4", "O5"]}]


def study_with(tmp_path, presentation, item_order="random", **extra):
    return load_study(write_study(tmp_path, n=6, item_order=item_order, replicates=2,
                                  presentation={"bfi25": presentation}, **extra))


def test_blocks_are_shown_whole_in_a_seeded_order_per_persona_and_every_cell_records_where(tmp_path):
    study = study_with(tmp_path, {"mode": "battery", "blocks": BLOCKS, "block_order": "random"})
    personas, _ = draw_personas(study)
    cells = build_cells(study, personas)
    first = cells[cells["replicate"] == 1]
    orders = []
    for _, rows in first.groupby("persona_id"):
        rows = rows.sort_values("position")
        assert list(rows["position"]) == list(range(1, 26))
        assert sorted(rows["item_id"]) == sorted(i for b in BLOCKS for i in b["items"])
        blocks = list(dict.fromkeys(rows["block"]))
        assert sorted(blocks) == sorted(b["id"] for b in BLOCKS)
        for block in blocks:              # a block's items are shown together, numbered 1..5 within it
            inside = rows[rows["block"] == block]
            assert list(inside["block_position"]) == [1, 2, 3, 4, 5]
            assert inside["position"].diff().dropna().eq(1).all()
            assert set(inside["item_id"]) == set(next(b["items"] for b in BLOCKS if b["id"] == block))
        orders.append((tuple(blocks), tuple(rows["item_id"])))
    assert len(set(orders)) > 1                                   # personas see different orders
    assert set(cells["presentation"]) == {"battery"} and set(cells["perturbation"]) == {"original"}
    again = build_cells(study_with(tmp_path / "again", {"mode": "battery", "blocks": BLOCKS,
                                                        "block_order": "random"}), personas)
    assert again.equals(cells)                                    # the seed decides every order


def test_fixed_block_order_keeps_the_declared_order_and_random_per_replicate_redraws(tmp_path):
    fixed = study_with(tmp_path / "fixed", {"blocks": BLOCKS, "block_order": "fixed"}, item_order="fixed")
    instrument = fixed.instruments[0]
    order = shown_order(fixed.seed, fixed.item_order, instrument, fixed.presentation(instrument), "P0001")
    assert [item for _, _, item in order] == [i for b in BLOCKS for i in b["items"]]
    redrawn = study_with(tmp_path / "redrawn", {"blocks": BLOCKS}, item_order="random_per_replicate")
    presentation = redrawn.presentation("bfi25")
    assert presentation.block_order == "random_per_replicate"      # follows item_order unless given
    one = shown_order(redrawn.seed, redrawn.item_order, instrument, presentation, "P0001", 1)
    two = shown_order(redrawn.seed, redrawn.item_order, instrument, presentation, "P0001", 2)
    assert one != two and sorted(one, key=str) != [] and {i for *_, i in one} == {i for *_, i in two}


def test_without_blocks_the_order_is_the_one_seeded_permutation_of_earlier_versions(tmp_path):
    study = study_with(tmp_path, "independent")
    instrument = study.instruments[0]
    order = shown_order(study.seed, "random", instrument, study.presentation(instrument), "P0003")
    ids = [i.id for i in instrument.items]
    expected = [ids[i] for i in rng_for(study.seed, "item_order", "P0003", "bfi25").permutation(len(ids))]
    assert [item for *_, item in order] == expected
    assert {block for block, *_ in order} == {"bfi25"}
    cells = unit_cells(study, "smollm2", "P0003", "profile_list", "explicit", "original", "bfi25", 1)
    assert cells[0]["cell_id"] == f"smollm2/P0003/profile_list/explicit/bfi25/{expected[0]}/r1"


@pytest.mark.parametrize("presentation, message", [
    ({"mode": "battery", "blocks": [{"id": "x", "items": ["A1", "ZZ"]}]}, "names item 'ZZ'"),
    ({"mode": "battery", "blocks": [{"id": "x", "items": ["A1"]}, {"id": "y", "items": ["A1"]}]},
     "item 'A1' is in blocks 'x' and 'y'"),
    ({"mode": "battery", "blocks": [{"id": "x", "items": ["A1"]}]}, "are in no block"),
])
def test_blocks_that_leave_out_or_repeat_an_item_are_refused(tmp_path, presentation, message):
    with pytest.raises(SpecError, match=message):
        study_with(tmp_path, presentation)


def test_a_conversation_keeps_what_the_respondent_said_and_leaves_out_a_failed_call():
    answered = Answer(request_id="c", status="answered", value=4, raw_output="next-token top 5: …")
    assert conversation_turn(answered, "Answer: ") == "Answer: 4"             # distribution: prefill + code
    sampled = Answer(request_id="c", status="answered", value=4, raw_output='{"answer": 4}')
    assert conversation_turn(sampled, None) == '{"answer": 4}'                # sample: the text written
    refused = Answer(request_id="c", status="refused", raw_output="I'm sorry, I cannot answer that.")
    assert conversation_turn(refused, None) == "I'm sorry, I cannot answer that."
    assert conversation_turn(Answer(request_id="c", status="failed", reason="HTTP 500"), None) is None
    dont_know = Answer(request_id="c", status="dont_know", raw_output="next-token top 5: …")
    assert conversation_turn(dont_know, "Answer: ", dont_know=8) == "Answer: 8"
    stored = {"status": "answered", "value": 3.0, "raw_output": "x"}       # a stored row, as resume reads it
    assert conversation_turn(stored, "Answer: ") == "Answer: 3"


def test_an_instrument_may_declare_its_own_blocks_and_a_study_may_override_them(tmp_path):
    spec = yaml.safe_load(open(MINI5))
    spec["blocks"] = [{"id": "social", "items": ["A2", "E4"]}, {"id": "other", "items": ["C4", "N1", "O1"]}]
    path = tmp_path / "blocked.yaml"
    path.write_text(yaml.safe_dump(spec))
    study = load_study(write_study(tmp_path, instruments=(str(path),), item_order="fixed"))
    presentation = study.presentation("mini5")
    assert presentation.declared_blocks and [b.id for b in presentation.blocks] == ["social", "other"]
    cells = unit_cells(study, "smollm2", "P0001", "profile_list", "explicit", "original", "mini5", 1)
    assert [(c["block"], c["block_position"], c["item_id"]) for c in cells] == [
        ("social", 1, "A2"), ("social", 2, "E4"), ("other", 1, "C4"), ("other", 2, "N1"), ("other", 3, "O1")]
    override = load_study(write_study(tmp_path / "o", instruments=(str(path),), item_order="fixed",
                                      presentation={"mini5": {"blocks": [{"id": "all", "items": ["O1", "N1", "C4",
                                                                                               "E4", "A2"]}]}}))
    assert [b.id for b in override.presentation("mini5").blocks] == ["all"]
    spec["blocks"] = [{"id": "social", "items": ["A2", "E4"]}]
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="are in no block"):
        load_study(write_study(tmp_path / "bad", instruments=(str(path),)))
