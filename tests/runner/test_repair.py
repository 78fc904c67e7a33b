"""``silicon-sample repair``: a damaged run store or manifest, a killed session and an interrupted creation
are repaired without losing an answer that can still be read; ``resume`` then finishes the run with the
answers an undamaged run has; a repair that is not safe changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from silicon_sample.throughput.loopback import LoopbackServer

from support.studies import MINI5, cli, write_study


def stored(run_dir):
    with sqlite3.connect(run_dir / "responses.sqlite") as db:
        return sorted(db.execute("SELECT cell_id, status, value, probabilities FROM responses").fetchall())


def folder_state(run_dir) -> dict:
    return {p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture(scope="module")
def server():
    with LoopbackServer(delay=0.0) as running:
        yield running


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory, server):
    """A complete 20-persona bfi25 run (500 cells) against the loopback server."""
    folder = tmp_path_factory.mktemp("complete")
    study = write_study(folder, n=20, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                               "temperature": 0.7, "options": {"base_url": server.url}}])
    result = cli("run", study, "--out", folder / "run", "--fresh")
    assert result.returncode == 0, result.stderr
    return folder / "run"


def damaged_copy(complete_run, tmp_path, damage):
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    damage(run / "responses.sqlite")
    return run


def truncate(path):
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size * 6 // 10)


def overwrite_pages(path):
    with open(path, "r+b") as handle:
        handle.seek(4096 * 40)
        handle.write(b"\xff" * 4096 * 4)


@pytest.mark.parametrize("damage", [truncate, overwrite_pages, lambda p: p.write_bytes(b""), os.unlink],
                         ids=["truncated", "pages-overwritten", "zero-bytes", "deleted"])
@pytest.mark.slow
def test_a_damaged_run_store_is_rebuilt_keeping_every_readable_answer_and_resume_restores_the_run(
        complete_run, tmp_path, damage):
    run = damaged_copy(complete_run, tmp_path, damage)
    refused = cli("status", run)
    assert refused.returncode == 2 and f"silicon-sample repair {run}" in refused.stderr
    assert "Traceback" not in refused.stderr

    before = folder_state(run)
    preview = cli("repair", run, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "would do: rebuilt responses.sqlite" in preview.stdout and folder_state(run) == before

    repaired = cli("repair", run)
    assert repaired.returncode == 0, repaired.stderr
    kept = stored(run)
    original = stored(complete_run)
    assert set(kept) <= set(original)                                 # nothing invented, nothing altered
    if damage in (truncate, overwrite_pages):
        assert 0 < len(kept) < len(original)
    assert f"{len(kept)} answers kept" in repaired.stdout and f"{len(original) - len(kept)} answers could not be " \
        "read" in repaired.stdout
    names = os.listdir(run)
    if damage is not os.unlink:
        assert any(n.startswith("responses.sqlite.damaged-") for n in names)     # the damaged file is kept
    assert any(n.startswith("results.csv.before-repair-") for n in names) and "results.csv" not in names
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["repairs"][-1]["answers_kept"] == len(kept)
    status = cli("status", run)
    assert status.returncode == 0 and f"{500 - len(kept)} cells pending" in status.stdout
    assert "repair started" in status.stdout

    assert cli("resume", run).returncode == 0
    assert stored(run) == original                                    # the answers of an undamaged run
    assert cli("repair", run).stdout.strip().endswith("nothing to repair")


def test_a_damaged_manifest_is_rebuilt_from_the_inputs_and_the_damaged_one_kept(complete_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    original = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text('{"study": ')
    refused = cli("status", run)
    assert refused.returncode == 2 and "manifest.json is not valid JSON" in refused.stderr
    result = cli("repair", run)
    assert result.returncode == 0, result.stderr
    assert "found: manifest.json is not valid JSON" in result.stdout
    rebuilt = json.loads((run / "manifest.json").read_text())
    for section in ("seeds", "design", "population", "instruments", "prompt_layout", "persona_templates"):
        assert rebuilt[section] == original[section], section
    assert {k: rebuilt["study"][k] for k in ("id", "sha256")} == {k: original["study"][k] for k in ("id", "sha256")}
    assert rebuilt["rebuilt_by_repair"] and [s["command"] for s in rebuilt["sessions"]] == ["run", "repair"]
    assert [p.name for p in run.glob("manifest.json.damaged-*")]
    assert stored(run) == stored(complete_run) and cli("status", run).returncode == 0


def test_a_repair_that_would_not_give_the_run_its_own_design_changes_nothing(complete_run, tmp_path):
    run = damaged_copy(complete_run, tmp_path, truncate)
    resolved = run / "inputs" / "study.resolved.yaml"
    resolved.write_text(resolved.read_text().replace("seed: 7", "seed: 8"))
    before = folder_state(run)
    result = cli("repair", run)
    assert result.returncode == 2 and "cannot repair safely" in result.stderr and "Traceback" not in result.stderr
    assert "nothing was changed" in result.stderr and folder_state(run) == before


def test_a_killed_session_is_closed_as_killed_at_its_last_answer(tmp_path):
    with LoopbackServer(delay=0.1) as slow:
        study = write_study(tmp_path, n=20, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                                     "options": {"base_url": slow.url, "concurrency": 8}}])
        out = tmp_path / "run"
        process = subprocess.Popen([sys.executable, "-m", "silicon_sample", "run", str(study), "--out", str(out),
                                    "--fresh"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                with sqlite3.connect(out / "responses.sqlite", timeout=5) as db:
                    if db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] >= 30:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert "running or killed" in cli("status", out).stdout
    result = cli("repair", out)
    assert result.returncode == 0 and "1 session(s) ended without a word" in result.stdout
    with sqlite3.connect(out / "responses.sqlite") as db:
        outcome, finished, last = db.execute(
            "SELECT outcome, finished_at, (SELECT MAX(recorded_at) FROM responses) FROM sessions WHERE session = 1"
        ).fetchone()
    assert outcome == "killed" and finished == last
    assert f"killed at {finished}" in cli("status", out).stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][0]["outcome"] == "killed"


def test_an_interrupted_creation_leaves_a_hidden_folder_that_repair_removes(tmp_path):
    partial = tmp_path / ".run.partial-999999999"
    (partial / "inputs").mkdir(parents=True)
    (partial / "study.yaml").write_text("id: x\n")
    result = cli("repair", tmp_path / "run")
    assert result.returncode == 0 and "the run was never created" in result.stdout and not partial.exists()
    missing = cli("repair", tmp_path / "run")
    assert missing.returncode == 2 and "run directory not found" in missing.stderr


def test_a_run_in_use_is_not_repaired(complete_run, tmp_path):
    import fcntl

    run = damaged_copy(complete_run, tmp_path, truncate)
    with open(run / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = cli("repair", run)
    assert result.returncode == 2 and "another silicon-sample process is working on this run" in result.stderr


@pytest.mark.slow
def test_on_the_embedded_model_a_truncated_run_repaired_and_resumed_equals_the_uninterrupted_run(tmp_path):
    study = write_study(tmp_path, n=3, instruments=(MINI5,))
    assert cli("run", study, "--out", tmp_path / "whole").returncode == 0
    shutil.copytree(tmp_path / "whole", tmp_path / "damaged")
    truncate(tmp_path / "damaged" / "responses.sqlite")
    assert cli("repair", tmp_path / "damaged").returncode == 0
    assert len(stored(tmp_path / "damaged")) < 15
    assert cli("resume", tmp_path / "damaged").returncode == 0
    assert stored(tmp_path / "damaged") == stored(tmp_path / "whole")


def test_a_repair_keeps_the_batch_api_journal_so_no_cell_is_batched_twice(complete_run, tmp_path):
    from silicon_sample.runner.batch_journal import StoreBatchJournal

    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    with sqlite3.connect(run / "responses.sqlite") as db:       # an unanswered cell, submitted in a batch
        cell = db.execute("SELECT cell_id FROM responses ORDER BY rowid DESC LIMIT 1").fetchone()[0]
        db.execute("DELETE FROM responses WHERE cell_id = ?", (cell,))
    journal = StoreBatchJournal(run, "lb")
    journal.uploaded("file-1", [cell])
    journal.submitted("file-1", "batch-1", "in_progress")
    journal.close()
    with sqlite3.connect(run / "responses.sqlite") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    overwrite_pages(run / "responses.sqlite")
    result = cli("repair", run)
    assert result.returncode == 0 and "done: rebuilt responses.sqlite" in result.stdout, result.stderr
    reopened = StoreBatchJournal(run, "lb")
    [record] = reopened.open_batches()
    reopened.close()
    assert (record.input_file_id, record.batch_id, record.status) == ("file-1", "batch-1", "in_progress")
    assert record.request_ids == [cell]


def _repair_renames(run) -> int:
    """How many rename(2) calls an uninterrupted repair of ``run`` makes (strace counts them)."""
    traced = subprocess.run(["strace", "-qq", "-e", "trace=rename", "-o", str(run.parent / "renames.log"),
                             sys.executable, "-m", "silicon_sample", "repair", str(run)],
                            capture_output=True, text=True, timeout=300)
    assert traced.returncode == 0, traced.stderr
    return sum(" rename(" in line or line.startswith("rename(") for line in
               (run.parent / "renames.log").read_text().splitlines())


@pytest.mark.slow
def test_a_repair_killed_at_any_rename_loses_no_answer_and_a_second_repair_finishes_it(complete_run, tmp_path):
    """SIGKILL injected by strace at the entry of each rename(2) the repair makes in turn (so before that rename
    and after every earlier one): at every instant a complete store has a name repair and status recognise, and
    a second repair keeps every answer the uninterrupted repair keeps."""
    reference = damaged_copy(complete_run, tmp_path / "reference", truncate)
    renames = _repair_renames(reference)
    expected = stored(reference)
    assert renames >= 4 and len(expected) > 100
    for when in range(1, renames + 1):
        run = damaged_copy(complete_run, tmp_path / f"kill-{when}", truncate)
        killed = subprocess.run(["strace", "-qq", "-o", "/dev/null", "-e", "trace=rename,renameat2", "-e",
                                 f"inject=rename:signal=KILL:when={when}",
                                 sys.executable, "-m", "silicon_sample", "repair", str(run)],
                                capture_output=True, text=True, timeout=300)
        assert killed.returncode != 0, (when, killed.stderr)
        status = cli("status", run)          # recognised: a readable run, or one line saying to run repair
        assert status.returncode in (0, 2) and "Traceback" not in status.stderr, (when, status.stderr)
        if status.returncode == 2:
            assert f"silicon-sample repair {run}" in status.stderr, (when, status.stderr)
        again = cli("repair", run)
        assert again.returncode == 0, (when, again.stderr)
        assert stored(run) == expected, when
        assert cli("status", run).returncode == 0
        assert not list(run.glob("responses.sqlite.rebuilt-*")) and not list(run.glob(".responses.sqlite.*")), when
