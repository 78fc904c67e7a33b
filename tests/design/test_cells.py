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
    assert any(w.startswith("no persona drawn for education = ") and "of the population" in w for w in warnings)
    assert all(f"warning: {w}" in result.stderr for w in warnings)
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert all(f"**warning**: {w}" in summary for w in warnings)
