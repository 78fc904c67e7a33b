"""An unfinished run is refused by every analysis unless --allow-incomplete, and then every table says how many
cells were pending (a run against the loopback server on 127.0.0.1, with some of its answers taken out)."""

from __future__ import annotations

import io
import sqlite3

import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.errors import RunStoreError
from silicon_sample.throughput.loopback import LoopbackServer

from support.studies import cli, write_study

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture
def unfinished(tmp_path):
    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=12, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                                     "answer_mode": "distribution", "temperature": 0.7,
                                                     "options": {"base_url": server.url, "concurrency": 16}}])
        store = ss.run(study, tmp_path / "run")
        with sqlite3.connect(store.dir / "responses.sqlite") as db:   # as if interrupted: 30 cells unanswered
            db.execute("DELETE FROM responses WHERE cell_id IN (SELECT cell_id FROM cells ORDER BY seq DESC LIMIT 30)")
        yield store.dir, server


def test_an_unfinished_run_is_refused_by_every_analysis_with_the_way_to_finish_it(unfinished):
    run, _ = unfinished
    for args in (("export", run, "-o", "-"), ("export", run, "--wide", "-o", run.parent / "w.csv"),
                 ("compare", run, "--baseline", "psych_bfi", "--no-invariance", "--no-anchors"),
                 ("rank", run, "--baseline", "psych_bfi", "--no-invariance"),
                 ("compare", run, "--against", run)):
        refused = cli(*args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert "the run is not finished: 30 of 300 cells are pending" in refused.stderr
        assert "silicon-sample resume" in refused.stderr and "--allow-incomplete" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert not (run.parent / "w.csv").exists()
    for call in (lambda: ss.results(run), lambda: ss.compare(run, "psych_bfi", invariance=False, anchors=False)):
        with pytest.raises(RunStoreError, match="30 of 300 cells are pending"):
            call()


@pytest.mark.slow
def test_allowed_every_table_and_file_says_how_many_cells_were_pending(unfinished, tmp_path):
    run, _ = unfinished
    exported = cli("export", run, "--allow-incomplete", "-o", "-")
    assert exported.returncode == 0 and "not finished" in exported.stderr
    long = pd.read_csv(io.StringIO(exported.stdout))
    assert (long["cells_pending"] == 30).all() and (long["status"] == "pending").sum() == 30
    wide = ss.results(run, wide=True, allow_incomplete=True)
    assert (wide["cells_pending"] == 30).all()
    tables = ss.compare(run, "psych_bfi", invariance=False, anchors=False, allow_incomplete=True,
                        output=tmp_path / "cmp")
    assert tables and all((t["cells_pending"] == 30).all() for t in tables.values())
    for path in (tmp_path / "cmp").glob("*.csv"):
        assert "cells_pending" in pd.read_csv(path).columns, path
    manifest = (tmp_path / "cmp" / "manifest.json").read_text()
    assert '"cells_pending"' in manifest and ": 30" in manifest
    ranked = ss.rank([run], "psych_bfi", invariance=False, allow_incomplete=True)
    assert (ranked["cells_pending"] == 30).all()


@pytest.mark.slow
def test_a_finished_run_has_no_pending_column(unfinished):
    run, _ = unfinished
    assert cli("resume", run).returncode == 0
    assert "cells_pending" not in ss.results(run).columns
    assert "cells_pending" not in ss.compare(run, "psych_bfi", invariance=False, anchors=False)["items"].columns
