"""Study files and run folders are shared, so they must be safe to open (issue 25): a doctored run folder
runs no template code, no -o lands on a run's own files, a killed compare leaves no mixed folder, model text
reaches neither the terminal as escapes nor a spreadsheet as formulas, a refused key stops the run at once,
a tool call of another name is no answer, and a full disk ends in one line with every stored answer kept."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_bad_input_catalogue import SENTINEL, TEMPLATE_PAYLOADS

from silicon_sample.throughput.loopback import LoopbackServer

from support.hostile_server import ESCAPES, FORMULA, HostileServer
from support.studies import MINI5, cli, write_study


def one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert fragment in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


@pytest.fixture(scope="module")
def server():
    with LoopbackServer(delay=0.0) as running:
        yield running


@pytest.fixture(scope="module")
def loopback_run(tmp_path_factory, server):
    """A complete 8-persona bfi25 run against the loopback OpenAI-compatible server (200 cells)."""
    folder = tmp_path_factory.mktemp("loopback")
    study = write_study(folder, n=8, models=[{
        "id": "lb", "backend": "openai", "model": "loopback", "temperature": 0.7,
        "options": {"base_url": server.url}}])
    result = cli("run", study, "--out", folder / "run", "--fresh")
    assert result.returncode == 0, result.stderr
    return folder / "run"


# -- 1. a received run folder runs no template code ------------------------------------------------------------
@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory):
    """A complete 1-persona mini5 run on the embedded model."""
    folder = tmp_path_factory.mktemp("embedded")
    result = cli("run", write_study(folder, n=1, instruments=(MINI5,)), "--out", folder / "run")
    assert result.returncode == 0, result.stderr
    return folder / "run"


def _doctor_style(run: Path) -> None:
    (run / "inputs" / "persona_templates" / "profile_list.j2").write_text(TEMPLATE_PAYLOADS[0][1])


def _doctor_layout(run: Path) -> None:
    path = run / "inputs" / "prompt_layout" / "questionnaire.yaml"
    path.write_text(path.read_text().replace("{{ item }}", "{{ item }}" + TEMPLATE_PAYLOADS[5][1], 1))


def _doctor_environ(run: Path) -> None:
    path = run / "inputs" / "study.resolved.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["persona_styles"] = ["/proc/self/environ"]
    path.write_text(yaml.safe_dump(spec))


def _doctor_runtime(run: Path) -> None:
    (run / "inputs" / "persona_templates" / "profile_list.j2").write_text(TEMPLATE_PAYLOADS[10][1])


DOCTORED = {"a persona style that runs a command": (_doctor_style, TEMPLATE_PAYLOADS[0][2]),
            "a layout that uses attr": (_doctor_layout, TEMPLATE_PAYLOADS[5][2]),
            "a style that builds a dunder at run time": (_doctor_runtime, "tried something the sandbox refuses"),
            "a style read from /proc/self/environ": (_doctor_environ,
                                                     "must be a shipped one or a file in the study's folder")}


@pytest.mark.slow
@pytest.mark.parametrize("doctoring", list(DOCTORED))
def test_a_doctored_run_folder_is_refused_in_one_line_by_every_command_and_nothing_runs(embedded_run, tmp_path,
                                                                                         doctoring):
    doctor, fragment = DOCTORED[doctoring]
    run = tmp_path / "run"
    shutil.copytree(embedded_run, run)
    doctor(run)
    database = digest(run / "responses.sqlite")
    cell = sqlite3.connect(run / "responses.sqlite").execute("SELECT cell_id FROM cells LIMIT 1").fetchone()[0]
    Path(SENTINEL).unlink(missing_ok=True)
    for args in (("show", run, "--cell", cell), ("report", run, "-o", tmp_path / "report.html"), ("repair", run),
                 ("resume", run)):
        one_line_error(cli(*args), fragment)
        assert not Path(SENTINEL).exists(), args
    assert digest(run / "responses.sqlite") == database and not (tmp_path / "report.html").exists()


# -- 2. outputs never land on a run's own files ----------------------------------------------------------------
@pytest.mark.slow
def test_no_output_lands_on_a_runs_own_files_or_an_input(loopback_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(loopback_run, run)
    before = folder_state(run)
    own = "would overwrite the run's own"
    one_line_error(cli("report", run, "-o", run / "responses.sqlite"), own)
    one_line_error(cli("report", run, "-o", run / "responses.sqlite", "--force"), own)
    one_line_error(cli("export", run, "--format", "csv", "-o", run / "responses.sqlite"), own)
    one_line_error(cli("export", run, "--format", "csv", "-o", run / "inputs" / "study.resolved.yaml"), own)
    one_line_error(cli("export", run, "-o", run / "results.csv", "--force"), own)
    one_line_error(cli("compare", run, "--baseline", "psych_bfi", "-o", run), own)
    one_line_error(cli("compare", run, "--baseline", "psych_bfi", "-o", run / "inputs"), own)
    link = tmp_path / "innocent.html"
    link.symlink_to(run / "responses.sqlite")
    one_line_error(cli("report", run, "-o", link), own)
    one_line_error(cli("export", run, "--format", "csv", "-o", run / "answers.csv"), "inside the run folder")
    one_line_error(cli("export", run, "-o", tmp_path / "a.csv", "--codebook", tmp_path / "a.csv"),
                   "the output is an input of this command")
    one_line_error(cli("rank", run, "--baseline", "psych_bfi", "-o", run / "manifest.json"), own)
    assert folder_state(run) == before and cli("status", run).returncode == 0

    beside = cli("export", run, "-o", run / "answers.csv", "--force")     # a new file beside the run: asked for
    assert beside.returncode == 0, beside.stderr
    assert (run / "answers.csv").is_file() and cli("status", run).returncode == 0


def test_an_existing_file_of_another_kind_is_replaced_only_with_force(loopback_run, tmp_path):
    data = tmp_path / "humans.sav"
    written = cli("export", loopback_run, "-o", data)
    assert written.returncode == 0, written.stderr
    kept = digest(data)
    one_line_error(cli("export", loopback_run, "--codebook", data), "exists and is not a csv file (it holds sav)")
    assert digest(data) == kept
    again = cli("export", loopback_run, "-o", data)                         # the same kind: replaced as before
    assert again.returncode == 0, again.stderr
    forced = cli("export", loopback_run, "--codebook", data, "--force")
    assert forced.returncode == 0, forced.stderr
    assert not data.read_bytes().startswith(b"$FL") and data.read_text().startswith("column,")


def stable(state: dict) -> dict:
    """The files of a compare folder that the same settings reproduce byte for byte (great_tables gives each
    HTML table a random id; the manifest has the time)."""
    return {k: v for k, v in state.items() if not k.endswith(".html") and k != "manifest.json"}


SUBGROUPS = {1: "gender", 2: "education"}
"""The two comparisons told apart: the first's subgroup table is by gender, the second's by education."""


def _compare(run, out, which, *extra, strace=None):
    command = [sys.executable, "-m", "silicon_sample", "compare", str(run), "--baseline", "psych_bfi", "-o", str(out),
               "--no-invariance", "--no-anchors", "--subgroup", SUBGROUPS[which], *extra]
    if strace:
        command = ["strace", "-qq", *strace, *command]      # the main thread, where the files are written
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_compare_killed_at_any_step_leaves_the_earlier_folder_or_the_new_one_never_a_mix(loopback_run, tmp_path):
    out = tmp_path / "tables"
    assert _compare(loopback_run, out, 1).returncode == 0
    first = folder_state(out)
    other = tmp_path / "reference"
    assert _compare(loopback_run, other, 2).returncode == 0
    second = stable(folder_state(other))
    assert stable(first) != second    # the two are told apart
    log = tmp_path / "renames.log"
    shutil.copytree(out, tmp_path / "count")       # counted over an earlier output, as the killed runs write
    counted = _compare(loopback_run, tmp_path / "count", 2, strace=["-e", "trace=rename,renameat2", "-o", str(log)])
    assert counted.returncode == 0, counted.stderr
    lines = log.read_text().splitlines()
    renames = sum(line.startswith("rename(") for line in lines)
    exchanges = sum(line.startswith("renameat2(") for line in lines)    # the atomic swap (or two renames)
    points = [("rename", when) for when in sorted({1, renames // 2, renames})] + [
        ("renameat2", when) for when in range(1, exchanges + 1)]
    for call, when in points:          # strace counts each system call's invocations on its own
        killed = _compare(loopback_run, out, 2, strace=["-o", "/dev/null", "-e", "trace=rename,renameat2", "-e",
                                                          f"inject={call}:signal=KILL:when={when}"])
        assert killed.returncode != 0, (call, when)
        state = folder_state(out)
        tables = stable(state)
        assert state == first or tables == second, (call, when)
        if tables == second:
            assert json.loads((out / "manifest.json").read_text())["settings"]["subgroups"] == ["education"]
        assert (out / "manifest.json").is_file()
    finished = _compare(loopback_run, out, 2)
    assert finished.returncode == 0, finished.stderr
    assert stable(folder_state(out)) == second
    assert json.loads((out / "manifest.json").read_text())["runs"][0]["dir"] == str(loopback_run.resolve())
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".tables.")]    # leftovers swept


def test_a_compare_folder_holding_other_files_is_refused(loopback_run, tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("precious")
    one_line_error(_compare(loopback_run, out, 1), "holds files that no analysis wrote")
    assert (out / "chapter1.tex").read_text() == "precious"


def test_an_export_killed_before_its_rename_leaves_a_temporary_the_next_export_removes(loopback_run, tmp_path):
    target = tmp_path / "answers.csv"
    killed = subprocess.run(["strace", "-qq", "-o", "/dev/null", "-e", "trace=rename", "-e",
                             "inject=rename:signal=KILL:when=1",
                             sys.executable, "-m", "silicon_sample", "export", str(loopback_run), "-o", str(target)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode != 0 and not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".answers.csv.tmp-")]
    assert cli("export", loopback_run, "-o", target).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv"]


# -- 4. neutralised text --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A sample-mode run against a server answering with terminal escapes, a formula and a foreign tool call."""
    server = HostileServer(kinds=["terminal escapes", "formula", "wrong tool", "valid"])
    folder = tmp_path_factory.mktemp("hostile")
    try:
        study = write_study(folder, n=4, instruments=(MINI5,), models=[{
            "id": "hostile", "backend": "openai", "model": "m", "answer_mode": "sample", "temperature": 0.7,
            "options": {"base_url": server.base_url, "max_attempts": 1, "max_reasks": 0}}])
        result = cli("run", study, "--out", folder / "run", "--fresh")
        assert result.returncode == 0, result.stderr
    finally:
        server.stop()
    return folder / "run"


def test_show_prints_model_text_with_its_control_characters_made_visible(hostile_run):
    db = sqlite3.connect(hostile_run / "responses.sqlite")
    cell = db.execute("SELECT cell_id FROM responses WHERE raw_output LIKE ?", (ESCAPES[:4] + "%",)).fetchone()[0]
    shown = cli("show", hostile_run, "--cell", cell)
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout and "\u202e" not in shown.stdout
    assert "\\x1b[2J\\x1b]0;owned\\x07" in shown.stdout and "\\u202egnp.exe" in shown.stdout
    as_json = cli("show", hostile_run, "--cell", cell, "--json")
    assert "\x1b" not in as_json.stdout and json.loads(as_json.stdout)[0]["response"]["raw_output"] == ESCAPES


def test_a_tool_call_of_another_name_is_not_an_answer(hostile_run):
    db = sqlite3.connect(hostile_run / "responses.sqlite")
    rows = db.execute("SELECT status, value, reason FROM responses WHERE reason LIKE '%run_shell%'").fetchall()
    assert rows and all(status == "invalid" and value is None for status, value, _ in rows)
    assert "not the answer tool" in rows[0][2]


def test_csv_exports_and_codebooks_prefix_formula_cells_unless_asked_not_to(hostile_run, tmp_path):
    guarded, book = tmp_path / "guarded.csv", tmp_path / "book.csv"
    assert cli("export", hostile_run, "-o", guarded, "--codebook", book).returncode == 0
    cells = [row["raw_output"] for row in csv.DictReader(guarded.open()) if row["raw_output"]]
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    notes = {row["column"]: row["note"] for row in csv.DictReader(book.open())}
    assert "CSV-injection guard" in notes["raw_output"] and "--no-formula-guard" in notes["raw_output"]
    raw = tmp_path / "raw.csv"
    assert cli("export", hostile_run, "-o", raw, "--no-formula-guard", "--codebook", book).returncode == 0
    assert FORMULA in [row["raw_output"] for row in csv.DictReader(raw.open())]
    assert "written as they are" in {r["column"]: r["note"] for r in csv.DictReader(book.open())}["raw_output"]
    piped = cli("export", hostile_run, "-o", "-")
    assert "'" + FORMULA in piped.stdout


# -- 5. a refused key stops the run at once -------------------------------------------------------------------
@pytest.mark.parametrize("status", [401, 403])
def test_a_server_refusing_the_key_stops_the_run_at_once_naming_the_variable(tmp_path, status, monkeypatch):
    server = HostileServer(status=status)
    monkeypatch.setenv("MY_LAB_KEY", "sk-wrong")
    try:
        study = write_study(tmp_path, n=4, instruments=(MINI5,), models=[{
            "id": "m", "backend": "openai", "model": "m", "answer_mode": "sample",
            "options": {"base_url": server.base_url, "api_key_env": "MY_LAB_KEY", "concurrency": 2}}])
        result = cli("run", study, "--out", tmp_path / "run", "--fresh")
    finally:
        server.stop()
    one_line_error(result, f"the server refused the key in $MY_LAB_KEY (HTTP {status}")
    assert "sk-wrong" not in result.stderr and "resume" in result.stderr
    assert sum(server.served.values()) <= 4          # stopped at once: not one call per cell (20 cells)
    with sqlite3.connect(tmp_path / "run" / "responses.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM responses WHERE status = 'failed'").fetchone()[0] == 0


# -- 5. a full disk ------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root mounts it; CI runs as root), unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    assert done.returncode == 0, f"this test mounts a small tmpfs and needs root: {done.stderr}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _grow(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


@pytest.mark.slow
def test_a_full_disk_mid_run_ends_in_one_line_and_resume_completes_exactly(small_disk, tmp_path, server):
    study = write_study(tmp_path, n=200, instruments=(MINI5,), models=[{
        "id": "lb", "backend": "openai", "model": "loopback", "temperature": 0.7,
        "options": {"base_url": server.url, "concurrency": 4}}])
    run = small_disk / "run"
    result = cli("run", study, "--out", run, "--fresh", "--quiet")
    one_line_error(result, "the disk is full")
    assert f"silicon-sample resume {run}" in result.stderr and "answers stored before are kept" in result.stderr
    with sqlite3.connect(run / "responses.sqlite") as db:
        kept = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    assert 0 < kept < 1000
    _grow(small_disk, "64m")
    resumed = cli("resume", run, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    reference = cli("run", study, "--out", tmp_path / "reference", "--fresh", "--quiet")
    assert reference.returncode == 0

    def answers(folder):
        with sqlite3.connect(folder / "responses.sqlite") as db:
            return sorted(db.execute("SELECT cell_id, status, value FROM responses").fetchall())
    assert answers(run) == answers(tmp_path / "reference")


def test_a_full_disk_while_writing_an_spss_file_is_one_line_and_leaves_nothing(small_disk, loopback_run):
    (small_disk / "filler").write_bytes(b"\0" * (1024 * 1024 - 8192))
    result = cli("export", loopback_run, "-o", small_disk / "answers.sav")
    one_line_error(result, "the disk is full")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_full_disk_while_creating_a_run_writes_nothing(small_disk, tmp_path, server):
    (small_disk / "filler").write_bytes(b"\0" * (1024 * 1024 - 4096))
    study = write_study(tmp_path, n=20, instruments=(MINI5,), models=[{
        "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
    one_line_error(cli("run", study, "--out", small_disk / "run", "--quiet"), "the disk is full")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


# -- a symlinked --out ---------------------------------------------------------------------------------------
def test_run_out_through_a_symbolic_link_makes_the_run_where_the_link_points(tmp_path, server):
    study = write_study(tmp_path, n=2, instruments=(MINI5,), models=[{
        "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    made = cli("run", study, "--out", link, "--fresh", "--quiet")
    assert made.returncode == 0, made.stderr
    assert (target / "responses.sqlite").is_file() and link.is_symlink()
    assert cli("status", link).returncode == 0
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "not-yet")
    made = cli("run", study, "--out", dangling, "--fresh", "--quiet")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "not-yet" / "responses.sqlite").is_file()
    again = cli("run", study, "--out", link, "--quiet")
    one_line_error(again, "output directory already exists and is not empty")
