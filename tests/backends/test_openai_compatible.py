"""The OpenAI-compatible backend against a real llama.cpp server on 127.0.0.1."""

import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.refusals import is_refusal

from conftest import MINI5, cli, write_study


@pytest.fixture
def server(llama_server):
    return llama_server


pytestmark = pytest.mark.usefixtures("private_cache")


def openai_study(folder, server, mode, n=2, **model_options):
    return write_study(folder, n=n, instruments=(MINI5,), models=[{
        "id": "smollm2-server", "backend": "openai", "model": server.alias, "answer_mode": mode,
        "temperature": 0.7, "options": {"base_url": server.base_url, **model_options}}])


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


def test_a_second_run_is_served_from_the_cache_and_fresh_bypasses_it(tmp_path, server):
    study = openai_study(tmp_path, server, "sample")
    before = server.completions_served()
    first = cli("run", study, "--out", tmp_path / "first")
    assert first.returncode == 0, first.stderr
    sent = server.completions_served() - before
    assert sent >= 10
    second = cli("run", study, "--out", tmp_path / "second")
    assert second.returncode == 0, second.stderr
    assert server.completions_served() - before == sent            # zero calls reached the server
    a = pd.read_csv(tmp_path / "first" / "results.csv")
    b = pd.read_csv(tmp_path / "second" / "results.csv")
    assert a["answer"].equals(b["answer"]) and a["raw_output"].equals(b["raw_output"])
    assert b["reason"].str.startswith("served from the response cache").all()
    third = cli("run", study, "--out", tmp_path / "third", "--fresh")
    assert third.returncode == 0
    assert server.completions_served() - before >= sent + 10          # --fresh: at least one call per cell


def test_refusal_phrases_are_recognised():
    assert is_refusal("I'm sorry, but I can't provide a rating for that.")
    assert is_refusal("As an AI language model, I don't have personal experiences.")
    assert not is_refusal("4")
    assert not is_refusal('{"answer": 2}')


def test_faults_are_retried_within_bounds_and_every_cell_ends_with_its_reason(tmp_path, server):
    from fault_proxy import FaultProxy

    # One HTTP call per ask (no re-asks), cells in a fixed order, one at a time: each cell meets its faults.
    script = ["500", "429:1", "ok",              # first cell: recovers on the 3rd attempt, after Retry-After
              "drop", "malformed", "delay:9",    # second cell: three transient failures -> failed
              "refuse"]                          # third cell: a refusal -> refused, with its text
    proxy = FaultProxy(f"http://127.0.0.1:{server.port}", script)
    try:
        study = openai_study(tmp_path, server, "sample", n=1, concurrency=1, max_attempts=3, max_reasks=0,
                             timeout=6, base_delay=0.05)
        spec = __import__("yaml").safe_load(study.read_text())
        spec["models"][0]["options"]["base_url"] = proxy.base_url + "/v1"
        spec["item_order"] = "fixed"
        study.write_text(__import__("yaml").safe_dump(spec))
        store = ss.run(study, tmp_path / "run")
    finally:
        proxy.stop()
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


def test_dry_run_counts_calls_tokens_and_cost_without_calling(tmp_path, server):
    study = openai_study(tmp_path, server, "sample", n=2)
    prices = tmp_path / "prices.yaml"
    prices.write_text("smollm2: {input_per_million: 1.0, output_per_million: 2.0}\n")
    before = server.completions_served()
    result = cli("run", study, "--dry-run", "--prices", prices)
    assert result.returncode == 0, result.stderr
    assert server.completions_served() == before and not (tmp_path / "run").exists()
    plan = ss.api.dry_run(study, prices=prices).loc["smollm2-server"]
    assert (plan["cells"], plan["cached"], plan["calls_min"], plan["calls_max"]) == (10, 0, 10, 30)
    assert plan["completion_tokens_est"] == 10 * 32
    assert plan["cost_usd_est"] == pytest.approx((plan["prompt_tokens_est"] * 1.0 + 320 * 2.0) / 1e6)
    ss.run(study, tmp_path / "run")
    assert ss.api.dry_run(study, prices=prices).loc["smollm2-server", "cached"] >= 8   # now served from cache


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
