"""The Batch API backend against tests/support/batch_server.py (OpenAI's /v1/files and /v1/batches on
127.0.0.1, its lines answered by the loopback completion or by a real llama.cpp server): answers equal
synchronous calls', a SIGKILL between submit and completion, a batch that expires half done, failed lines,
a crash between creating a batch and journaling it."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.answers import AnswerRequest, ChatMessage
from silicon_sample.backends import create
from silicon_sample.backends.openai_batch import MemoryJournal
from silicon_sample.errors import BackendError
from silicon_sample.throughput.loopback import LoopbackServer

from support.servers import BatchServer
from support.studies import MINI5, cli, write_study

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture
def batch_server(tmp_path):
    server = BatchServer(tmp_path / "batch_server.log")
    yield server
    server.stop()


def batch_model(server, mode: str = "distribution", model: str = "loopback", **options) -> dict:
    return {"id": "b", "backend": "openai_batch", "model": model, "answer_mode": mode, "temperature": 0.7,
            "options": {"base_url": server.base_url, "poll_interval": 0.05, **options}}


def stored(run_dir) -> pd.DataFrame:
    with sqlite3.connect(run_dir / "responses.sqlite") as db:
        frame = pd.read_sql_query("SELECT cell_id, status, value, probabilities, raw_output, reason FROM responses",
                                  db)
    return frame.sort_values("cell_id").reset_index(drop=True)


def journal(run_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    with sqlite3.connect(run_dir / "responses.sqlite") as db:
        return (pd.read_sql_query("SELECT * FROM batches ORDER BY rowid", db),
                pd.read_sql_query("SELECT * FROM batch_cells ORDER BY rowid", db))


@pytest.mark.parametrize("mode", ["distribution", "sample"])
def test_a_batched_run_gives_the_answers_of_synchronous_calls(tmp_path, batch_server, mode):
    with LoopbackServer(delay=0.0) as sync_server:     # the same seeded completion, one call at a time
        sync = ss.run(write_study(tmp_path / "sync", n=3, models=[{
            **batch_model(batch_server, mode), "backend": "openai",
            "options": {"base_url": sync_server.url, "concurrency": 8}}]), tmp_path / "run-sync")
    batched = ss.run(write_study(tmp_path / "batch", n=3, models=[batch_model(batch_server, mode, batch_size=40)]),
                     tmp_path / "run-batch")
    one, other = stored(sync.dir), stored(batched.dir)
    assert len(other) == 75 and (other["status"] == "answered").all()
    pd.testing.assert_frame_equal(one[["cell_id", "status", "value", "probabilities"]],
                                  other[["cell_id", "status", "value", "probabilities"]])
    seen = batch_server.control()
    assert [len(b["custom_ids"]) for b in seen["batches"]] == [40, 35]          # batch_size lines at most
    assert set(seen["lines_seen"].values()) == {1}                              # no cell sent twice
    batches = ss.status(batched.dir)["batches"]
    assert batches["status"].tolist() == ["completed", "completed"]
    assert batches["answered"].tolist() == [40, 35] and batches["waiting"].sum() == 0
    assert batches["batch_id"].tolist() == [b["id"] for b in seen["batches"]]
    assert batched.manifest()["models"]["b"]["backend"] == "openai_batch"


def _wait_for_batch(run_dir, process: subprocess.Popen, timeout: float = 120) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            with sqlite3.connect(run_dir / "responses.sqlite", timeout=5) as db:
                row = db.execute("SELECT batch_id FROM batches WHERE batch_id IS NOT NULL").fetchone()
        except sqlite3.OperationalError:      # no run, or no batches table yet
            continue
        if row:
            return row[0]
    return None


@pytest.mark.slow
def test_a_run_killed_between_submit_and_completion_is_resumed_by_reattaching_to_its_batch(tmp_path, batch_server):
    batch_server.control(hold=True)                     # the batch stays in progress until released
    study = write_study(tmp_path, n=4, models=[batch_model(batch_server, "sample")])
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "silicon_sample", "run", str(study), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    batch_id = _wait_for_batch(out, process)
    assert batch_id is not None, process.communicate(timeout=10)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    shown = cli("status", out)
    assert shown.returncode == 0, shown.stderr
    assert re.search(f"b {batch_id}: (validating|in_progress), 0 answered, 0 returned, 100 waiting of 100 cells",
                     shown.stdout), shown.stdout                    # its state when last polled
    assert "state: incomplete, 100 cells pending" in shown.stdout
    batch_server.control(hold=False)
    resumed = cli("resume", out)
    assert resumed.returncode == 0, resumed.stderr
    answers = stored(out)
    assert len(answers) == 100 and (answers["status"] == "answered").all()
    seen = batch_server.control()
    assert len(seen["batches"]) == 1 and seen["batches"][0]["id"] == batch_id    # re-attached, not resubmitted
    assert len(seen["lines_seen"]) == 100 and set(seen["lines_seen"].values()) == {1}
    assert "completed, 100 answered, 0 returned, 0 waiting of 100 cells" in cli("status", out).stdout


def test_ctrl_c_stops_waiting_at_once_and_keeps_the_submitted_batch(tmp_path, batch_server):
    batch_server.control(hold=True)
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "silicon_sample", "run",
                                str(write_study(tmp_path, n=2, models=[batch_model(batch_server)])), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for_batch(out, process) is not None
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr and "every batch submitted" in stderr
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]
    assert session["outcome"] == "interrupted"    # the waiting lane came back at once, not cut off by the grace
    assert session["stopped"] == "every call in flight came back and was stored"
    batch_server.control(hold=False)
    assert cli("resume", out).returncode == 0
    assert len(stored(out)) == 50 and len(batch_server.control()["batches"]) == 1


def test_a_batch_that_expires_half_done_returns_the_rest_to_pending_for_a_new_batch(tmp_path, batch_server):
    batch_server.control(expire_after=50)
    store = ss.run(write_study(tmp_path, n=4, models=[batch_model(batch_server)]), tmp_path / "run")
    answers = stored(store.dir)
    assert len(answers) == 100 and (answers["status"] == "answered").all()
    first, second = batch_server.control()["batches"]
    assert (first["status"], second["status"]) == ("expired", "completed")
    assert second["custom_ids"] == first["custom_ids"][50:]        # exactly the cells the expiry left unanswered
    batches, cells = journal(store.dir)
    assert batches["status"].tolist() == ["expired", "completed"] and batches["batch_id"].tolist() == [
        first["id"], second["id"]]
    returned = cells[cells["returned"].notna()]
    assert returned["cell_id"].tolist() == first["custom_ids"][50:]
    assert returned["returned"].str.startswith("batch_expired: This request could not be executed").all()
    table = ss.status(store.dir)["batches"]
    assert table[["answered", "returned", "waiting"]].values.tolist() == [[50, 50, 0], [50, 0, 0]]


def test_the_batch_apis_own_calls_are_retried_by_the_one_policy_and_its_last_failure_stops_the_run(
        tmp_path, batch_server):
    batch_server.control(fail_calls=2)           # the upload fails twice, then passes: retried, not by the client
    store = ss.run(write_study(tmp_path, n=1, models=[batch_model(batch_server)]), tmp_path / "run")
    assert (stored(store.dir)["status"] == "answered").all() and batch_server.control()["failed_calls"] == 2
    policy = store.manifest()["models"]["b"]["retry_policy"]
    assert policy["max_attempts"] == 5 and policy["max_reasks"] == 0 and policy["reask"].startswith("never")
    batch_server.control(fail_calls=5)           # five in a row: the run stops, saying what failed and how often
    result = cli("run", write_study(tmp_path / "b", n=1, seed=8, models=[batch_model(batch_server)]), "--out",
                 tmp_path / "run2")
    assert result.returncode != 0 and "after 5 attempt(s): HTTP 500" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and batch_server.control()["failed_calls"] == 7


def test_failed_lines_go_back_to_pending_and_a_request_the_server_rejects_is_recorded_failed(tmp_path, batch_server):
    batch_server.control(fail_lines=3, bad_lines=2)
    store = ss.run(write_study(tmp_path / "a", n=2, models=[batch_model(batch_server, max_attempts=2)]),
                   tmp_path / "run-a")
    first, second = batch_server.control()["batches"]
    assert second["custom_ids"] == first["custom_ids"][:3]         # the 500s are sent once more, the 400s not
    answers = stored(store.dir).set_index("cell_id")
    assert (answers.loc[first["custom_ids"][:3], "status"] == "answered").all()
    assert (answers.loc[first["custom_ids"][3:5], "status"] == "failed").all()
    assert (answers.loc[first["custom_ids"][3:5], "reason"] == "HTTP 400: Invalid value for 'model'").all()
    assert (answers["status"] == "answered").sum() == 48

    batch_server.control(fail_lines=3)                              # with one batch per cell allowed
    store = ss.run(write_study(tmp_path / "b", n=2, models=[batch_model(batch_server, max_attempts=1)]),
                   tmp_path / "run-b")
    third = batch_server.control()["batches"][2]
    answers = stored(store.dir).set_index("cell_id")
    assert len(batch_server.control()["batches"]) == 3
    assert answers.loc[third["custom_ids"][:3], "reason"].tolist() == [
        "no answer from 1 batch(es); last: HTTP 500: The server had an error"] * 3


def _requests(n: int) -> list[AnswerRequest]:
    return [AnswerRequest(request_id=f"cell{k}", messages=(ChatMessage(role="user", content=f"Question {k}?"),),
                          options=(1, 2, 3, 4, 5), mode="sample", temperature=0.7, seed=k) for k in range(n)]


@pytest.mark.parametrize("created_before_the_crash", [True, False])
def test_an_uploaded_file_whose_batch_id_was_not_journaled_is_found_or_batched_never_sent_twice(
        batch_server, created_before_the_crash):
    backend = create("openai_batch", "loopback", {"base_url": batch_server.base_url, "poll_interval": 0.05})
    requests = _requests(6)
    memory = MemoryJournal()
    backend.attach_journal(memory)
    ((ids, data),) = backend._jsonl_files(requests)
    uploaded = backend.client.files.create(file=("x.jsonl", io.BytesIO(data)), purpose="batch")
    memory.uploaded(uploaded.id, ids)                  # the process died after this write ...
    if created_before_the_crash:                       # ... and after the batch was created, or before
        backend.client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
    answers = list(backend.answer(requests))
    backend.close()
    assert sorted(a.request_id for a in answers) == ids and all(a.status == "answered" for a in answers)
    seen = batch_server.control()
    assert len(seen["batches"]) == 1 and set(seen["lines_seen"].values()) == {1}
    assert seen["files"] == 2                          # the one input file (no second upload) and its output


def test_options_of_the_batch_backend_are_checked():
    with pytest.raises(BackendError, match="one base_url, not a pool"):
        create("openai_batch", "m", {"base_url": ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]})
    with pytest.raises(BackendError, match="batch_size must be a whole number"):
        create("openai_batch", "m", {"base_url": "http://127.0.0.1:1/v1", "batch_size": 0})
    with pytest.raises(BackendError, match="unknown option"):
        create("openai_batch", "m", {"concurrency": 4})


@pytest.mark.slow
def test_batches_answered_by_a_real_model_equal_synchronous_calls_to_it(tmp_path, llama_server):
    server = BatchServer(tmp_path / "batch_server.log", upstream=llama_server.base_url)
    try:
        model = {**batch_model(server, "distribution", model=llama_server.alias), "temperature": 0.0}
        batched = ss.run(write_study(tmp_path / "batch", n=2, instruments=(MINI5,), models=[model]),
                         tmp_path / "run-batch")
        sample = ss.run(write_study(tmp_path / "sample", n=2, instruments=(MINI5,), models=[
            {**model, "answer_mode": "sample"}]), tmp_path / "run-sample")
    finally:
        server.stop()
    sync = ss.run(write_study(tmp_path / "sync", n=2, instruments=(MINI5,), models=[
        {**model, "backend": "openai", "options": {"base_url": llama_server.base_url}}]), tmp_path / "run-sync")
    one, other = stored(sync.dir), stored(batched.dir)
    assert len(one) == 10 and (other["status"] == "answered").all()
    for a, b in zip(one["probabilities"], other["probabilities"]):
        pa, pb = pd.read_json(io.StringIO(a), typ="series"), pd.read_json(io.StringIO(b), typ="series")
        assert (pa - pb).abs().max() < 1e-4
    answers = stored(sample.dir)
    assert len(answers) == 10 and answers["status"].isin(["answered", "invalid", "refused"]).all()
    assert answers.loc[answers["status"] == "answered", "value"].between(1, 6).all()
    assert answers.loc[answers["status"] != "answered", "reason"].notna().all()
