"""One stream of calls per model across personas, the models at once, Ctrl-C and SIGKILL — against the
loopback OpenAI-compatible server of :mod:`silicon_sample.throughput.loopback` (real HTTP on 127.0.0.1, a fixed
delay per call, answers drawn from each request's seed)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.throughput.loopback import LoopbackServer

from support.studies import cli, write_study


def loopback_model(model_id: str, server: LoopbackServer, mode: str = "distribution", **options) -> dict:
    return {"id": model_id, "backend": "openai", "model": "loopback", "answer_mode": mode, "temperature": 0.7,
            "options": {"base_url": server.url, **options}}


def stored(run_dir) -> pd.DataFrame:
    with sqlite3.connect(run_dir / "responses.sqlite") as db:
        frame = pd.read_sql_query("SELECT cell_id, status, value, probabilities, reason FROM responses", db)
    return frame.sort_values("cell_id").reset_index(drop=True)


@pytest.mark.parametrize("mode", ["distribution", "sample"])
def test_answers_are_the_same_with_one_or_256_calls_in_flight_and_the_stream_crosses_personas(tmp_path, mode):
    runs = {}
    for concurrency, delay in ((1, 0.002), (256, 0.5)):     # answers depend on the seed, not on the delay
        with LoopbackServer(delay=delay) as server:
            study = write_study(tmp_path / f"c{concurrency}", n=11, models=[
                loopback_model("lb", server, mode, concurrency=concurrency)])
            runs[concurrency] = ss.run(study, tmp_path / f"run{concurrency}", fresh=True)
            # 11 personas x 25 items: 256 in flight at once is only possible across personas
            assert server.max_concurrent == concurrency
    one, many = stored(runs[1].dir), stored(runs[256].dir)
    assert len(one) == 275 and (one["status"] == "answered").all()
    pd.testing.assert_frame_equal(one, many)


def test_the_models_of_a_study_answer_at_the_same_time(tmp_path):
    with LoopbackServer(delay=0.05) as a, LoopbackServer(delay=0.05) as b:
        study = write_study(tmp_path, n=4, models=[loopback_model("a", a, concurrency=2),
                                                   loopback_model("b", b, concurrency=2)])
        store = ss.run(study, tmp_path / "run", fresh=True)
        assert a.requests == b.requests == 100
        assert b.first_request_at < a.last_request_at and a.first_request_at < b.last_request_at   # overlapped
    counts = store.status_counts()
    assert counts.loc["a", "answered"] == counts.loc["b", "answered"] == 100


def _run_in_background(study, out) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "silicon_sample", "run", str(study), "--out", str(out),
                             "--fresh"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_answers(run_dir, at_least: int, process: subprocess.Popen, timeout: float = 120) -> int:
    deadline, answered = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and answered < at_least and process.poll() is None:
        time.sleep(0.05)
        if (run_dir / "responses.sqlite").exists():
            try:
                with sqlite3.connect(run_dir / "responses.sqlite", timeout=5) as db:
                    answered = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            except sqlite3.OperationalError:       # the run's tables are still being created
                pass
    return answered


def _signal_a_running_study(tmp_path, server, signum):
    """Run 20 personas × bfi25 (8 in flight) in a process of its own, send it ``signum`` once 40 answers are
    stored, and wait for it: (the run folder, the process, its stderr)."""
    study = write_study(tmp_path, n=20, models=[loopback_model("lb", server, concurrency=8)])
    out = tmp_path / "run"
    process = _run_in_background(study, out)
    assert _wait_for_answers(out, 40, process) >= 40
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    return out, process, stderr


@pytest.mark.slow
def test_ctrl_c_stops_sending_keeps_what_was_in_flight_and_resume_finishes(tmp_path):
    with LoopbackServer(delay=0.2) as server:
        out, process, stderr = _signal_a_running_study(tmp_path, server, signal.SIGINT)
        sent = server.responses_sent
        assert process.returncode == 130 and "Traceback" not in stderr and "resume" in stderr
        answers = stored(out)
        assert len(answers) == sent < 500               # every answer that came back is stored, no more sent
        with sqlite3.connect(out / "responses.sqlite") as db:
            assert db.execute("SELECT outcome FROM sessions").fetchall() == [("interrupted",)]
        session = json.loads((out / "manifest.json").read_text())["sessions"][0]
        assert session["stopped"] == "every call in flight came back and was stored"     # within the grace
        result = cli("resume", out)
        assert result.returncode == 0, result.stderr
        final = stored(out)
        assert len(final) == 500 and final["cell_id"].is_unique
        assert final.set_index("cell_id").loc[answers["cell_id"], "value"].tolist() == answers["value"].tolist()


def test_sigterm_from_a_scheduler_ends_the_session_as_interrupted_with_its_time(tmp_path):
    with LoopbackServer(delay=0.1) as server:
        out, process, stderr = _signal_a_running_study(tmp_path, server, signal.SIGTERM)
        assert process.returncode == 143 and "terminated (SIGTERM)" in stderr and "Traceback" not in stderr
        assert len(stored(out)) == server.responses_sent              # what came back was stored
    with sqlite3.connect(out / "responses.sqlite") as db:
        outcome, finished = db.execute("SELECT outcome, finished_at FROM sessions").fetchone()
    assert outcome == "interrupted" and finished
    assert f"interrupted at {finished}" in cli("status", out).stdout


@pytest.mark.slow
def test_a_killed_run_loses_at_most_the_calls_in_flight(tmp_path):
    with LoopbackServer(delay=0.1) as server:
        study = write_study(tmp_path, n=20, models=[loopback_model("lb", server, concurrency=16)])
        out = tmp_path / "run"
        process = _run_in_background(study, out)
        assert _wait_for_answers(out, 100, process) >= 100
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        time.sleep(0.3)                                 # the server finishes writing what it had in hand
        kept = len(stored(out))
        # a call holds its slot until its answer is committed: what was sent and not stored is at most the
        # calls in flight (16), whether the answer had come back or not
        assert server.requests - kept <= 16
        assert cli("resume", out).returncode == 0
        assert len(stored(out)) == 500


def test_a_pool_of_two_servers_gives_the_same_answers_as_one_and_shares_the_calls(tmp_path):
    with LoopbackServer(delay=0.05) as single:
        one = ss.run(write_study(tmp_path / "one", n=4, models=[loopback_model("lb", single, concurrency=8)]),
                     tmp_path / "run-one", fresh=True)
    with LoopbackServer(delay=0.05) as a, LoopbackServer(delay=0.05) as b:
        study = write_study(tmp_path / "pool", n=4, models=[
            {**loopback_model("lb", a, concurrency=8), "options": {"base_url": [a.url, b.url], "concurrency": 8}}])
        pool = ss.run(study, tmp_path / "run-pool", fresh=True)
        assert a.requests + b.requests == 100 and min(a.requests, b.requests) >= 40     # fewest outstanding first
    pd.testing.assert_frame_equal(stored(one.dir), stored(pool.dir))
    servers = pool.manifest()["models"]["lb"]["servers"]
    assert [s["url"] for s in servers] == [a.url, b.url]


def test_a_server_of_the_pool_that_fails_is_rested_and_the_other_answers(tmp_path):
    import socket

    with socket.socket() as probe:                     # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    with LoopbackServer(delay=0.01) as alive:
        study = write_study(tmp_path, n=2, models=[{**loopback_model("lb", alive), "options": {
            "base_url": [dead, alive.url], "concurrency": 2, "base_delay": 0.01, "max_attempts": 6}}])
        store = ss.run(study, tmp_path / "run", fresh=True)
        assert alive.requests == 50
    assert (stored(store.dir)["status"] == "answered").all()
