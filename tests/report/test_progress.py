"""Progress a person can read: the rate over the recent window (a slow start does not distort the ETA),
counts by status, cost so far; rich bars on a terminal, plain lines in a pipe, nothing when quiet."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from silicon_sample.report import progress as progress_module
from silicon_sample.report.progress import RunProgress


def event(done, total=100, status="answered", model="m", tokens=(100, 1)):
    return SimpleNamespace(model_id=model, done=done, total=total, elapsed_s=0.0, last_status=status,
                           prompt_tokens=tokens[0], completion_tokens=tokens[1])


def test_the_eta_comes_from_the_recent_rate_not_from_a_slow_start(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    shown = RunProgress("quiet")
    clock[0] = 300.0                       # five minutes loading the model, then 10 answers a second
    for done in range(1, 41):
        shown(event(done, status="invalid" if done % 10 == 0 else "answered"))
        clock[0] += 0.1
    state = shown.models["m"]
    assert state.rate() == pytest.approx(10.0)
    assert state.eta_s() == pytest.approx(6.0)                # 60 cells left at 10/s, not at 40 / 304 s
    assert state.counts == {"answered": 36, "refused": 0, "invalid": 4, "failed": 0, "dont_know": 0}
    line = progress_module.describe("m", state)
    assert line.startswith("m: 40/100 cells (40%) — 36 answered, 4 invalid — 10.0 cells/s, ETA 0m06s")


def test_cost_so_far_adds_each_answers_tokens_at_the_models_price():
    shown = RunProgress("quiet", prices={"gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6}},
                        model_names={"m": "gpt-4o-mini"})
    for done in range(1, 11):
        shown(event(done, tokens=(1000, 10)))
    assert shown.models["m"].cost_usd == pytest.approx(10 * (1000 * 0.15 + 10 * 0.6) / 1e6)
    assert "$0.0016 so far" in progress_module.describe("m", shown.models["m"])


def test_plain_lines_in_a_pipe_and_rich_bars_on_a_terminal():
    stream = io.StringIO()
    with RunProgress("auto", interval=3600, stream=stream) as shown:
        assert shown.display == "plain"
        for done in range(1, 101):
            shown(event(done))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1].startswith("  m: 100/100 cells (100%) — 100 answered")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    with RunProgress("auto", stream=terminal) as shown:
        assert shown.display == "rich"
        for done in range(1, 51):
            shown(event(done, total=50))
    assert "50/50" in terminal.getvalue() and "50 answered" in terminal.getvalue()


def test_a_run_on_the_command_line_prints_readable_progress_and_quiet_prints_none(tmp_path):
    from silicon_sample.throughput.loopback import LoopbackServer

    from support.studies import MINI5, cli, write_study

    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=4, instruments=(MINI5,), models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
        (tmp_path / "prices.yaml").write_text("loopback: {input_per_million: 1.0, output_per_million: 2.0}\n")
        loud = cli("run", study, "--out", tmp_path / "a", "--fresh", "--prices", tmp_path / "prices.yaml")
        quiet = cli("run", study, "--out", tmp_path / "b", "--fresh", "--quiet")
    assert loud.returncode == 0 and quiet.returncode == 0
    final = [line for line in loud.stderr.splitlines() if line.startswith("  lb: 20/20 cells (100%)")]
    assert final and "20 answered" in final[0] and "so far" in final[0]
    assert "cells (" not in quiet.stderr
    import json

    status = cli("status", tmp_path / "a", "--json")
    parsed = json.loads(status.stdout)
    assert parsed["state"] == "complete" and parsed["counts"]["lb"]["answered"] == 20 and parsed["pending"] == 0
    assert [s["outcome"] for s in parsed["sessions"]] == ["completed"]
