"""The cells of a design: item orders per persona, and per replicate when the study asks for it."""

import yaml

from silicon_sample.design.cells import build_cells, draw_personas
from silicon_sample.design.study import load_study

from support.studies import MINI5, write_study


def positions(tmp_path, order):
    path = write_study(tmp_path / order, n=4, instruments=(MINI5,), replicates=3, item_order=order)
    study = load_study(path)
    cells = build_cells(study, draw_personas(study)[0])
    return cells.pivot_table(index=["persona_id", "item_id"], columns="replicate", values="position")


def test_random_keeps_one_order_per_persona_and_random_per_replicate_redraws_it(tmp_path):
    kept = positions(tmp_path, "random")
    assert (kept[1] == kept[2]).all() and (kept[2] == kept[3]).all()
    redrawn = positions(tmp_path, "random_per_replicate")
    assert (redrawn[1] == kept[1]).all()                       # the first replicate keeps the persona's order
    assert (redrawn[2] != redrawn[1]).any() and (redrawn[3] != redrawn[2]).any()
    for replicate in (1, 2, 3):                                 # every order is a permutation of 1..5
        orders = redrawn[replicate].groupby(level="persona_id").apply(lambda p: tuple(sorted(p)))
        assert all(order == (1, 2, 3, 4, 5) for order in orders)
    assert yaml.safe_load((tmp_path / "random_per_replicate" / "study.yaml").read_text())["item_order"] \
        == "random_per_replicate"


def test_a_sample_too_small_for_every_group_warns_in_the_run_its_summary_and_manifest(tmp_path):
    from silicon_sample.throughput.loopback import LoopbackServer

    from support.studies import cli, write_study

    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=2, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                                    "options": {"base_url": server.url}}])
        result = cli("run", study, "--out", tmp_path / "run", "--fresh")
    assert result.returncode == 0, result.stderr
    manifest = __import__("json").loads((tmp_path / "run" / "manifest.json").read_text())
    warnings = manifest["design"]["sampling_warnings"]
    assert len(warnings) == 1 and "education = " in warnings[0] and "(share of the population in brackets)" in \
        warnings[0] and "2 personas cannot cover the" in warnings[0]
    assert all(f"warning: {w}" in result.stderr for w in warnings)
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert all(f"**warning**: {w}" in summary for w in warnings)


def test_cells_and_renderings_stream_in_bounded_chunks_equal_to_the_whole_table(tmp_path):
    from silicon_sample.design.cells import count_cells, iter_cells, iter_variants, render_personas

    study = load_study(write_study(tmp_path, n=7, instruments=(MINI5,), replicates=2))
    personas = draw_personas(study)[0]
    chunks = list(iter_cells(study, personas, chunk=12))
    assert len(chunks) > 3 and all(len(c) <= 12 + 5 for c in chunks)      # a chunk ends at an instrument's end
    whole = build_cells(study, personas)
    assert [row for c in chunks for row in c] == list(whole.itertuples(index=False, name=None))
    assert list(whole["seq"]) == list(range(len(whole))) and len(whole) == count_cells(study, len(personas))
    variants = list(iter_variants(study, personas, chunk=3))
    assert [len(v) for v in variants] == [3, 3, 1]
    assert render_personas(study, personas).equals(
        __import__("pandas").concat(variants, ignore_index=True))


def test_a_run_store_reads_its_pending_cells_a_chunk_at_a_time_with_their_persona_text(tmp_path):
    from silicon_sample.answers import Answer
    from silicon_sample.design.cells import iter_cells, iter_variants
    from silicon_sample.store.run_store import RunStore

    study = load_study(write_study(tmp_path, n=5, instruments=(MINI5,)))
    personas = draw_personas(study)[0]
    store = RunStore.create(tmp_path / "run", study_text="", resolved_spec={}, inputs=study.input_files(),
                            manifest={}, personas=personas, variants=iter_variants(study, personas, chunk=2),
                            cells=iter_cells(study, personas, chunk=4))
    model = study.models[0].id
    answered = store.cells()["cell_id"].iloc[::3].tolist()
    store.record_many([Answer(request_id=c, status="answered", value=1) for c in answered], session=0)
    pending = store.pending(model)
    streamed = list(store.iter_pending(model, chunk=4))
    assert [c["cell_id"] for c in streamed] == pending["cell_id"].tolist() and store.count_pending(model) == len(
        pending)
    texts = store.variants().set_index(["persona_id", "persona_style", "cue_type"])["persona_text"]
    assert all(c["persona_text"] == texts[(c["persona_id"], c["persona_style"], c["cue_type"])] for c in streamed)
    assert not set(answered) & {c["cell_id"] for c in streamed}


def test_writing_the_design_of_ten_times_the_personas_takes_far_less_than_ten_times_the_memory(tmp_path):
    from silicon_sample.throughput.measure import design_memory

    figures = design_memory(tmp_path, (1000, 10000))
    assert figures["design_cells_ratio"] == 10 and [r["cells"] for r in figures["design"]] == [25000, 250000]
    assert figures["design_peak_rss_ratio"] < 1.5, figures      # a whole cells table of 250,000 rows adds ~100 MB


def _anes_request(tmp_path, item_id: str, mode: str = "independent", history=()):
    from silicon_sample.design.cells import build_request
    from silicon_sample.specs.resources import data_dir

    spec = yaml.safe_load((data_dir("studies") / "replica_anes1996.yaml").read_text())
    spec["baseline"] = str(data_dir("human_baselines") / f"{spec['baseline']}.yaml")
    if mode != "independent":
        spec["presentation"] = {"anes_ideology": mode}
    path = tmp_path / "anes.yaml"
    path.write_text(yaml.safe_dump(spec))
    study = load_study(path, n=2)
    cell = {"instrument_id": "anes_ideology", "item_id": item_id, "cell_id": "c", "seed": 1,
            "perturbation": "original", "presentation": mode}
    return build_request(study, study.models[0], cell, "PERSONA", history=history)


def test_an_item_with_its_own_scale_states_that_scale_and_no_other(tmp_path):
    """ANES 1996: party identification has its own 7 categories under an instrument whose instructions and
    scale are the liberal-conservative ones (issue 26, part 6)."""
    pid = "\n".join(m.content for m in _anes_request(tmp_path, "PID").messages)
    assert "Strong Democrat" in pid and "Extremely liberal" not in pid and "liberals and conservatives" not in pid
    assert pid.count("Strong Democrat") == 1 and "\n\n\n" not in pid
    ideology = "\n".join(m.content for m in _anes_request(tmp_path, "selfLR").messages)
    assert "Extremely liberal" in ideology and "Strong Democrat" not in ideology
    chat = _anes_request(tmp_path, "PID", mode="conversation").messages      # one system turn for every item
    assert "Extremely liberal" in chat[0].content
    assert "For this question only, answer on this scale instead:\n1 = Strong Democrat" in chat[-1].content


def test_an_unknown_field_in_an_instrument_lists_the_fields_allowed_there(tmp_path):
    from silicon_sample.errors import SpecError
    from silicon_sample.specs import instruments

    spec = yaml.safe_load(open(MINI5))
    spec["items"][0]["wording"] = "x"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    try:
        instruments.load(path)
    except SpecError as exc:
        assert "items[0]: unknown field(s) ('wording' was unexpected)" in exc.what
        assert exc.fix == ("the fields allowed here are anchors, correct, id, instructions, integer, max, max_length, "
                           "max_selected, min, min_selected, rank_top, response_scale, reverse, scale, special, "
                           "step, text, type, unit")
    else:
        raise AssertionError("an unknown item field was accepted")
