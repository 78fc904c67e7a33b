"""Studies on a Dask cluster: a LocalCluster of two worker processes answering on the embedded model, the
run store written by the driver alone; a worker killed mid-run; resume with either executor."""

import os
import signal
import sqlite3
import threading
import time

import numpy as np
import pytest

import silicon_sample as ss

from support.studies import MINI5, write_study

pytestmark = pytest.mark.usefixtures("private_cache")


def study_file(tmp_path, n, **extra):
    return write_study(tmp_path, n=n, instruments=(MINI5,), **extra)


def same_answers(a, b):
    columns = ["cell_id", "status", "answer"]
    return a[columns].equals(b[columns]) and np.allclose(a["p_4"], b["p_4"])


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
    yield local
    local.close()


@pytest.mark.slow
def test_a_dask_run_equals_a_single_process_run_cell_for_cell(tmp_path, cluster):
    study = study_file(tmp_path, n=6, presentation={"mini5": "conversation"})
    local = ss.results(ss.run(study, tmp_path / "local", progress=False).dir)
    store = ss.run(study, tmp_path / "dask", progress=False, executor="dask", scheduler=cluster.scheduler_address)
    assert same_answers(ss.results(store.dir), local)                 # conversations ran on the workers too
    session = store.manifest()["sessions"][-1]
    assert session["executor"] == "dask" and session["dask_workers"] == 2 and session["outcome"] == "completed"
    assert session["duplicates_refused"] == 0
    from distributed import Client

    with Client(cluster.scheduler_address) as client:        # each worker built its backend once, with 1 thread
        loaded = client.run(lambda: [(b.describe().get("n_threads"), type(b).__name__)
                                     for b, _ in __import__("silicon_sample.runner.dask_executor", fromlist=["x"])
                                     ._BACKENDS.values()])
    assert sorted(loaded.values()) == [[(1, "EmbeddedBackend")], [(1, "EmbeddedBackend")]]


@pytest.mark.slow
def test_a_worker_killed_mid_run_leaves_a_complete_run_with_every_cell_answered_once(tmp_path, cluster):
    from distributed import Client

    study = study_file(tmp_path, n=16)
    local = ss.results(ss.run(study, tmp_path / "local", progress=False).dir)
    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
    killed = []

    def kill_when_answering():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            database = tmp_path / "dask" / "responses.sqlite"
            if database.exists():
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                    if db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] >= 10:
                        os.kill(pids[0], signal.SIGKILL)                  # a worker dies while shards are out
                        killed.append(pids[0])
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_when_answering)
    watcher.start()
    store = ss.run(study, tmp_path / "dask", progress=False, executor="dask", scheduler=cluster.scheduler_address)
    watcher.join()
    assert killed, "the worker was not killed during the run"
    answers = ss.results(store.dir)
    assert len(answers) == 16 * 5 and (answers["status"] == "answered").all()
    with sqlite3.connect(store.dir / "responses.sqlite") as db:      # one response per cell, no more
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT cell_id) FROM responses").fetchone() == (80, 80)
    assert same_answers(answers, local)                               # the rescheduled shards drew the same
    assert store.manifest()["sessions"][-1]["outcome"] == "completed"


@pytest.mark.slow
def test_resume_finishes_a_run_with_either_executor(tmp_path, cluster):
    study = study_file(tmp_path, n=4)
    local = ss.results(ss.run(study, tmp_path / "local", progress=False).dir)
    store = ss.run(study, tmp_path / "run", progress=False, executor="dask", scheduler=cluster.scheduler_address)
    for executor in ("dask", "local"):
        with sqlite3.connect(store.dir / "responses.sqlite") as db:
            gone = db.execute("DELETE FROM responses WHERE cell_id IN "
                              "(SELECT cell_id FROM cells WHERE persona_id = 'P002')").rowcount
        assert gone == 5
        ss.resume(store.dir, progress=False, executor=executor,
                  scheduler=cluster.scheduler_address if executor == "dask" else None)
        assert same_answers(ss.results(store.dir), local)
    assert [s["executor"] for s in store.manifest()["sessions"][1:]] == ["dask", "local"]


def test_an_unreachable_scheduler_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ss.BackendError, match="cannot connect to the server: 127.0.0.1:9"):
        ss.run(study_file(tmp_path, n=2), tmp_path / "run", executor="dask", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ss.SpecError, match="--scheduler is the address of a Dask scheduler"):
        ss.run(study_file(tmp_path, n=2), tmp_path / "run", scheduler="tcp://127.0.0.1:9")
