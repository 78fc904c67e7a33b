"""The catalogue of bad inputs: each gets one clear line (what, where, how to fix), exit code 2, no traceback,
and nothing written — refused by `validate`, by `--dry-run` and by `run` before it creates its folder."""

from __future__ import annotations

import pytest
import yaml

import silicon_sample as ss
from silicon_sample.errors import SiliconSampleError

from support.studies import FIXTURES, MINI5, cli, write_study

SERVER = {"id": "m", "backend": "openai", "model": "gpt-4o-mini", "answer_mode": "sample",
          "options": {"base_url": "http://127.0.0.1:9/v1"}}
EMBEDDED = {"id": "m", "backend": "embedded", "answer_mode": "distribution"}


def tens_instrument(folder) -> str:
    """mini5 with option codes 10, 20, ... 60 (not single tokens)."""
    spec = yaml.safe_load(open(MINI5))
    spec["id"] = "tens"
    spec["response_scale"]["options"] = [{**o, "value": o["value"] * 10} for o in spec["response_scale"]["options"]]
    path = folder / "tens.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


CASES = {
    "concurrency 0": ({**SERVER, "options": {**SERVER["options"], "concurrency": 0}}, None,
                      "option concurrency must be a whole number at least 1"),
    "max_attempts 0": ({**SERVER, "options": {**SERVER["options"], "max_attempts": 0}}, None,
                       "option max_attempts must be a whole number at least 1"),
    "timeout -1": ({**SERVER, "options": {**SERVER["options"], "timeout": -1}}, None,
                   "option timeout must be a number more than 0"),
    "top_logprobs many": ({**SERVER, "options": {**SERVER["options"], "top_logprobs": "many"}}, None,
                          "option top_logprobs must be a whole number at least 1 and at most 20, got 'many'"),
    "top_logprobs 25": ({**SERVER, "options": {**SERVER["options"], "top_logprobs": 25}}, None,
                        "option top_logprobs must be a whole number at least 1 and at most 20, got 25"),
    "base_delay -0.5": ({**SERVER, "options": {**SERVER["options"], "base_delay": -0.5}}, None,
                        "option base_delay must be a number at least 0"),
    "requests_per_minute 0": ({**SERVER, "options": {**SERVER["options"], "requests_per_minute": 0}}, None,
                              "option requests_per_minute must be a number more than 0"),
    "max_reasks true": ({**SERVER, "options": {**SERVER["options"], "max_reasks": True}}, None,
                        "option max_reasks must be a whole number at least 0"),
    "n_threads 0": ({**EMBEDDED, "options": {"n_threads": 0}}, None,
                    "option n_threads must be a whole number at least 1"),
    "batch_size 60000": ({**SERVER, "backend": "openai_batch", "options": {**SERVER["options"], "batch_size": 60000}},
                         None, "option batch_size must be a whole number at least 1 and at most 50000"),
    "unknown option": ({**SERVER, "options": {**SERVER["options"], "concurrence": 4}}, None,
                       "unknown option(s) concurrence for the openai backend"),
    "codes 10-60 on a server in distribution mode": ({**SERVER, "answer_mode": "distribution"}, "tens",
                                                     "option code 10 cannot be read from a server's next-token"),
    "a numeric item in distribution mode on a server": ({**SERVER, "answer_mode": "distribution"}, "mixed",
                                                        "backend openai cannot read a distribution over the answers "
                                                        "of a numeric item"),
    "an open-ended item in distribution mode on the embedded model": (
        EMBEDDED, "mixed", "backend embedded cannot read a distribution over the answers of a text item"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_study_is_refused_by_validate_dry_run_and_run_before_anything_is_written(tmp_path, name):
    model, instrument, message = CASES[name]
    instruments = ((tens_instrument(tmp_path),) if instrument == "tens" else (str(FIXTURES / "mixed_types.yaml"),)
                   if instrument == "mixed" else (MINI5,))
    study = write_study(tmp_path, n=2, instruments=instruments, models=[model])
    for check in (lambda: ss.validate(study), lambda: ss.api.dry_run(study)):
        with pytest.raises(SiliconSampleError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check()
    refused = cli("run", study, "--out", tmp_path / "run")
    assert refused.returncode == 2, refused.stderr
    assert message in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1                  # one line
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run*"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A small finished run (loopback server), copied by each test that damages it."""
    from silicon_sample.throughput.loopback import LoopbackServer

    folder = tmp_path_factory.mktemp("finished")
    with LoopbackServer(delay=0.0) as server:
        study = write_study(folder, n=2, instruments=(MINI5,), models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
        ss.run(study, folder / "run", fresh=True)
    return folder / "run"


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


DAMAGE = {
    "zero-byte database": (lambda run: (run / "responses.sqlite").write_bytes(b""),
                           "responses.sqlite is empty (0 bytes)"),
    "random bytes for a database": (lambda run: (run / "responses.sqlite").write_bytes(bytes(range(256)) * 64),
                                    "responses.sqlite is not a database"),
    "truncated database": (lambda run: _truncate(run / "responses.sqlite"), "responses.sqlite is damaged"),
    "invalid manifest": (lambda run: (run / "manifest.json").write_text("{not json"),
                         "manifest.json is not valid JSON"),
    "manifest of something else": (lambda run: (run / "manifest.json").write_text('{"a": 1}'),
                                   "manifest.json is not a run manifest: it has no 'study'"),
    "a database of another program": (lambda run: _other_database(run / "responses.sqlite"),
                                      "responses.sqlite is not a run database: it has no table personas"),
}


def _other_database(path):
    import sqlite3

    path.unlink()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (x TEXT)")


@pytest.mark.parametrize("name", list(DAMAGE))
@pytest.mark.parametrize("command", ["status", "resume", "export"])
def test_a_damaged_run_is_named_by_every_command(finished_run, tmp_path, name, command):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    for suffix in ("-wal", "-shm"):                     # a closed run keeps everything in the main file
        (run / f"responses.sqlite{suffix}").unlink(missing_ok=True)
    damage, message = DAMAGE[name]
    damage(run)
    args = {"status": ("status", run), "resume": ("resume", run), "export": ("export", run, "-o", "-")}[command]
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("prices, message", [
    ("gpt-4o-mini: {input_per_million: cheap, output_per_million: 0.6}\n",
     "price input_per_million of gpt-4o-mini must be a number of US dollars ≥ 0, got 'cheap'"),
    ("gpt-4o-mini: {input_per_million: -1, output_per_million: 0.6}\n", "got -1"),
    ("gpt-4o-mini: {input_per_million: 0.15}\n", "each entry needs input_per_million and output_per_million"),
])
def test_a_bad_price_table_is_one_line(tmp_path, prices, message):
    study = write_study(tmp_path, n=1, instruments=(MINI5,), models=[SERVER])
    (tmp_path / "prices.yaml").write_text(prices)
    result = cli("run", study, "--dry-run", "--prices", tmp_path / "prices.yaml")
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("target, message", [
    ("/proc/silicon-sample.csv", "cannot write the file"),
    ("{run}", "is a directory"),                                 # a folder, not a file
    ("{tmp}/no/such/folder/out.csv", "output folder does not exist"),
])
def test_an_export_that_cannot_be_written_is_one_line_and_leaves_nothing(finished_run, tmp_path, target, message):
    output = target.format(run=finished_run, tmp=tmp_path)
    result = cli("export", finished_run, "-o", output)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.rglob(".*.tmp-*")) and not list(finished_run.glob(".*.tmp-*"))


@pytest.mark.parametrize("args, env, message", [
    (("--n", "10000000"), {}, "--n: the study has 250,000,000 cells (10,000,000 personas), more than the limit"),
    ((), {"SILICON_SAMPLE_MAX_CELLS": "100"}, "the study has 125 cells (5 personas), more than the limit of 100"),
    ((), {"SILICON_SAMPLE_MAX_CELLS": "many"}, "SILICON_SAMPLE_MAX_CELLS must be a positive whole number"),
])
def test_a_study_larger_than_the_cell_limit_is_refused_at_once(tmp_path, monkeypatch, args, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    study = write_study(tmp_path, n=5, models=[SERVER])
    commands = [("run", study, "--out", tmp_path / "run"), ("run", study, "--dry-run")] + (
        [] if args else [("validate", study)])                     # --n is an option of run only
    for command in commands:
        result = cli(*command, *args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, command
    assert not (tmp_path / "run").exists()


def _baseline(folder, csv_text: str, name: str = "data.csv") -> str:
    (folder / name).write_bytes(csv_text.encode() if isinstance(csv_text, str) else csv_text)
    spec = {"id": "mine", "name": "My respondents", "source": "a test", "instrument": MINI5,
            "population": "psych_bfi", "data": {"file": name}}
    path = folder / "mine.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


HEADER = "age,gender,education,A2,C4,E4,N1,O1\n"


@pytest.mark.parametrize("data, name, message", [
    ("", "data.csv", "the data file is empty"),
    (HEADER, "data.csv", "the data file has no respondents (no rows)"),
    (b"\x00\x01garbage", "data.sav", "the data file cannot be read as SAV"),
    (HEADER + '20,1,"unclosed,1,2,3,4,5\n', "data.csv", "the data file cannot be read as CSV"),
    ("age,gender\n30,1\n", "data.csv", "the data file has no column 'A2', 'C4', 'E4', 'N1', 'O1', 'education'"),
    # hostile data files (issue 25): refused from the header, before anything is loaded
    (",".join(f"c{i}" for i in range(30_000)) + "\n1\n", "data.csv",
     "the data file has 30,000 columns, more than the 20,000"),
    ("x" * (5 * 1024 * 1024), "data.csv", "the data file's header line is longer than 4,194,304 bytes"),
])
def test_a_baseline_file_that_cannot_be_read_is_one_line(tmp_path, data, name, message):
    baseline = _baseline(tmp_path, data, name)
    for args in (("validate", baseline), ("compare", tmp_path, "--baseline", baseline)):
        result = cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr)
        if args[0] == "validate":
            assert message in result.stderr, result.stderr


def test_a_baseline_cannot_read_the_machines_state(tmp_path):
    for name in ("/proc/self/environ", "../../../../../../../proc/self/environ"):
        spec = {"id": "mine", "name": "x", "source": "x", "instrument": MINI5, "population": "psych_bfi",
                "data": {"file": name}}
        (tmp_path / "mine.yaml").write_text(yaml.safe_dump(spec))
        result = cli("validate", tmp_path / "mine.yaml")
        assert result.returncode == 2 and "data files are never read from /proc" in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_text_in_a_baseline_numeric_column_is_named_not_silently_missing(tmp_path):
    rows = "".join(f"{20 + i},{1 + i % 2},{1 + i % 5},{1 + i % 6},4,5,2,{'three' if i < 3 else 3}\n" for i in range(12))
    described = ss.validate(_baseline(tmp_path, HEADER + rows))
    assert "text where a number belongs (read as missing): {'O1': 3}" in described
    assert ss.load_baseline(_baseline(tmp_path, HEADER + rows)).report["not_a_number"] == {"O1": 3}


def test_two_runs_into_one_folder_at_once_keep_one_run_and_refuse_the_other_in_one_line(tmp_path):
    import subprocess
    import sys

    from silicon_sample.throughput.loopback import LoopbackServer

    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=2, instruments=(MINI5,), models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
        runs = [subprocess.Popen([sys.executable, "-m", "silicon_sample", "run", str(study), "--out",
                                  str(tmp_path / "run"), "--fresh"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results                  # one run made, the other refused; never a traceback
    for code, stderr in results:
        assert "Traceback" not in stderr and "unexpected" not in stderr
        if code == 2:
            assert ("another run was created in this output directory at the same time" in stderr
                    or "output directory already exists" in stderr or "another silicon-sample process" in stderr)
    assert ss.status(tmp_path / "run")["pending"] == 0 and not list(tmp_path.glob(".run.partial-*"))


def test_a_misspelt_category_in_a_joint_table_is_named(tmp_path):
    from silicon_sample.specs import resources

    text = (resources.data_dir("populations") / "us_adults_agesex2020.yaml").read_text()
    (tmp_path / "typo.yaml").write_text(text.replace("sex: female, value: 15146696", "sex: femal, value: 15146696"))
    result = cli("validate", tmp_path / "typo.yaml")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert "joint[0]: no cell for {'age_band': '18 to 24', 'sex': 'female'}" in result.stderr
    assert "categories of sex here: femal, male, female" in result.stderr and "misspelt" in result.stderr
