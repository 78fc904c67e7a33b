"""The OpenAI-compatible backend against a real llama.cpp server on 127.0.0.1."""

import numpy as np
import pytest

import silicon_sample as ss

from support.studies import MINI5, cli, openai_study, write_study


@pytest.fixture
def server(llama_server):
    return llama_server


pytestmark = pytest.mark.usefixtures("private_cache")


def run_through_proxy(tmp_path, server, script: list[str], **options):
    """A one-persona sample-mode study, items in fixed order, sent through a FaultProxy playing ``script``
    in front of ``server``; returns (the stopped proxy with its log, the run)."""
    from support.fault_proxy import FaultProxy

    proxy = FaultProxy(f"http://127.0.0.1:{server.port}", script)
    try:
        study = openai_study(tmp_path, server, "sample", n=1, **options)
        spec = __import__("yaml").safe_load(study.read_text())
        spec["models"][0]["options"]["base_url"] = proxy.base_url + "/v1"
        spec["item_order"] = "fixed"
        study.write_text(__import__("yaml").safe_dump(spec))
        return proxy, ss.run(study, tmp_path / "run")
    finally:
        proxy.stop()


def test_sample_mode_through_instructor_gives_valid_answers(tmp_path, server):
    store = ss.run(openai_study(tmp_path, server, "sample"), tmp_path / "run")
    long = ss.results(store.dir)
    assert len(long) == 10
    assert set(long["status"]) <= {"answered", "invalid", "refused"}
    answered = long[long["status"] == "answered"]
    assert len(answered) >= 8 and answered["answer"].between(1, 5 + 1).all()
    assert answered["raw_output"].str.contains('"answer"').all()
    assert (long["model_version"].dropna() == server.alias).all()
    assert (long["backend"] == "openai").all()
    manifest = store.manifest()
    assert manifest["models"]["smollm2-server"]["base_url"] == server.base_url
    assert "not-needed" not in (store.dir / "manifest.json").read_text()


def test_distribution_mode_reads_option_probabilities_from_top_logprobs(tmp_path, server):
    store = ss.run(openai_study(tmp_path, server, "distribution"), tmp_path / "run")
    long = ss.results(store.dir)
    assert set(long["status"]) <= {"answered", "invalid"}
    answered = long[long["status"] == "answered"]
    p = answered[[f"p_{k}" for k in range(1, 7)]].to_numpy()
    assert p.sum(axis=1) == pytest.approx([1.0] * len(answered))
    assert (answered["option_mass"] > 0).all() and (answered["option_mass"] <= 1).all()
    assert long["raw_output"].str.startswith("next-token top 20:").all()
    invalid = long[long["status"] == "invalid"]
    assert invalid["reason"].str.contains("no option label among the top 20").all()


def test_faults_are_retried_within_bounds_and_every_cell_ends_with_its_reason(tmp_path, server):
    # One HTTP call per ask (no re-asks), cells in a fixed order, one at a time: each cell meets its faults.
    script = ["500", "429:1", "ok",              # first cell: recovers on the 3rd attempt, after Retry-After
              "drop", "malformed", "delay:9",    # second cell: three transient failures -> failed
              "refuse"]                          # third cell: a refusal -> refused, with its text
    proxy, store = run_through_proxy(tmp_path, server, script, concurrency=1, max_attempts=3, max_reasks=0,
                                     timeout=6, base_delay=0.05)
    long = ss.results(store.dir).sort_values("position").reset_index(drop=True)
    assert len(long) == 5 and long["cell_id"].is_unique
    assert long.loc[0, "status"] in ("answered", "invalid")           # whatever the model said on the 3rd try
    assert long["status"].tolist()[1:3] == ["failed", "refused"]
    assert "no response within 6 s" in long.loc[1, "reason"] and "after 3 attempts" in long.loc[1, "reason"]
    assert long.loc[2, "raw_output"].startswith("I'm sorry") and long.loc[2, "reason"] == "the model declined to answer"
    assert set(long["status"].tolist()[3:]) <= {"answered", "invalid"}
    calls = proxy.completions()
    assert [c["fault"] for c in calls[:7]] == script                  # 3 tries per failing cell, never more
    assert len(calls) == 7 + 2                                         # the last two cells: one call each
    assert "Inquire about others" in calls[0]["body"] and "Do things in a half-way" in calls[3]["body"]
    assert calls[2]["time"] - calls[1]["time"] >= 1.0                  # Retry-After: 1 honoured


def test_output_off_the_scale_is_asked_again_with_the_validation_error_as_instructor_does(tmp_path, server):
    import json

    script = ["invalid", "ok",                   # first cell: off the scale, then answered on the re-ask
              "invalid", "invalid"]              # second cell: off the scale twice -> invalid, text kept
    proxy, store = run_through_proxy(tmp_path, server, script, concurrency=1, max_reasks=1)
    long = ss.results(store.dir).sort_values("position").reset_index(drop=True)
    assert long.loc[0, "status"] in ("answered", "invalid") and long.loc[0, "status"] != "failed"
    assert long.loc[1, "status"] == "invalid" and long.loc[1, "raw_output"] == '{"answer": 99}'
    assert long.loc[1, "reason"].startswith("output did not match the answer schema after 2 ask(s)")
    calls = proxy.completions()
    reask = json.loads(calls[1]["body"])["messages"]
    assert reask[-2]["role"] == "assistant" and reask[-2]["tool_calls"][0]["id"] == "call_invalid"
    assert reask[-1]["role"] == "tool" and reask[-1]["tool_call_id"] == "call_invalid"
    assert reask[-1]["content"].startswith("Validation Error found:\n") and "fix the errors" in reask[-1]["content"]
    assert json.loads(calls[0]["body"])["messages"] == reask[:-2]    # the re-ask extends the first ask


def test_the_api_key_never_reaches_manifest_results_cache_or_messages(tmp_path, server, monkeypatch):
    secret = "sk-test-secret-4f9c2a7e1d"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    study = openai_study(tmp_path, server, "sample", n=1)
    result = cli("run", study, "--out", tmp_path / "run")
    assert result.returncode == 0 and secret not in result.stdout + result.stderr
    for path in list((tmp_path / "run").rglob("*")) + [tmp_path / "cache.sqlite"]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    # A server that rejects the request: the error message names the status, not the key.
    bad = openai_study(tmp_path / "bad", server, "sample", n=1)
    spec = __import__("yaml").safe_load(bad.read_text())
    spec["models"][0]["model"] = "no-such-model"
    bad.write_text(__import__("yaml").safe_dump(spec))
    rejected = cli("run", bad, "--out", tmp_path / "bad_run")
    assert secret not in rejected.stdout + rejected.stderr


@pytest.mark.parametrize("mode", ["distribution", "sample"])
def test_a_key_the_server_echoes_is_scrubbed_from_everything_stored_and_printed(tmp_path, monkeypatch, mode):
    from support.hostile_server import HostileServer

    secret = "sk-echo-sentinel-7d41c0b9"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    echoing = HostileServer(echo_key=True)
    try:
        study = write_study(tmp_path, n=1, instruments=(MINI5,), models=[{
            "id": "echo", "backend": "openai", "model": "m", "answer_mode": mode, "temperature": 0.7,
            "options": {"base_url": echoing.base_url, "max_reasks": 1}}])
        outputs = [cli("run", study, "--out", tmp_path / "run"), cli("status", tmp_path / "run"),
                   cli("export", tmp_path / "run", "-o", "-"), cli("export", tmp_path / "run", "--wide", "-o", "-")]
    finally:
        echoing.stop()
    assert echoing.served["echo"] >= 5                                  # the server did echo it
    assert all(o.returncode == 0 for o in outputs), [o.stderr for o in outputs]
    for output in outputs:
        assert secret not in output.stdout + output.stderr
    assert "***" in outputs[2].stdout                                    # scrubbed, not dropped
    for path in [*(tmp_path / "run").rglob("*"), *tmp_path.glob("cache.sqlite*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_optional_free_text_reason(tmp_path, server):
    import json

    study = write_study(tmp_path, n=1, instruments=(MINI5,), models=[{
        "id": "with-reason", "backend": "openai", "model": server.alias, "answer_mode": "sample", "temperature": 0.7,
        "max_tokens": 120, "free_text_reason": True, "options": {"base_url": server.base_url}}])
    long = ss.results(ss.run(study, tmp_path / "run").dir)
    answered = long[long["status"] == "answered"]
    assert len(answered) >= 3
    for raw in answered["raw_output"]:
        payload = json.loads(raw)
        assert set(payload) == {"answer", "reason"} and len(payload["reason"]) <= 300


@pytest.mark.slow
def test_distribution_mode_through_the_completions_endpoint_reads_as_the_embedded_model_does(tmp_path, server):
    """The chat endpoint cannot pre-fill "Answer: ", so the options get a few percent of the next token; the
    completions endpoint with the model's own chat template and the prefill reads what the embedded model
    reads (the same GGUF: the same probabilities), and the summary flags the chat reading's low option mass."""
    from silicon_sample.backends.embedded import model_path

    runs = {}
    for name, options in (("chat", {}), ("completions", {"chat_template": f"gguf:{model_path()}"})):
        study = write_study(tmp_path / name, n=2, instruments=(MINI5,), models=[{
            "id": name, "backend": "openai", "model": server.alias, "answer_mode": "distribution",
            "temperature": 1.0, "options": {"base_url": server.base_url, **options}}])
        runs[name] = ss.run(study, tmp_path / name / "run", progress=False).dir
    embedded = write_study(tmp_path / "embedded", n=2, instruments=(MINI5,), temperature=1.0)
    runs["embedded"] = ss.run(embedded, tmp_path / "embedded" / "run", progress=False).dir
    long = {name: ss.results(run).sort_values(["persona_id", "item_id"]) for name, run in runs.items()}
    p = [f"p_{v}" for v in range(1, 7)]
    assert (long["completions"]["status"] == "answered").all()
    assert long["completions"]["option_mass"].mean() > 0.8 > 0.3 > long["chat"]["option_mass"].mean()
    assert np.allclose(long["completions"][p].to_numpy(), long["embedded"][p].to_numpy(), atol=2e-3)
    assert "**warning**: `chat` put on average" in (runs["chat"] / "summary.md").read_text()
    assert "of its next-token probability on" not in (runs["completions"] / "summary.md").read_text()
    manifest = (runs["completions"] / "manifest.json").read_text()
    assert "completions, chat template sha256" in manifest
