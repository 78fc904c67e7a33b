"""The native Ollama backend against tests/ollama_server.py (Ollama's /api protocol over the embedded model),
and several models — embedded, OpenAI-compatible and Ollama — in one study."""

import pytest

import silicon_sample as ss
from silicon_sample.backends.embedded import model_path
from silicon_sample.files import file_sha256

from support.studies import MINI5, write_study

pytestmark = pytest.mark.usefixtures("private_cache")


def ollama_model(server, mode, **options):
    return {"id": f"ollama-{mode}", "backend": "ollama", "model": server.alias, "answer_mode": mode,
            "temperature": 0.7, "options": {"host": server.host, **options}}


def test_sample_mode_uses_the_schema_as_format_and_reports_the_digest(tmp_path, ollama_server):
    store = ss.run(write_study(tmp_path, n=2, instruments=(MINI5,), models=[ollama_model(ollama_server, "sample")]),
                   tmp_path / "run")
    long = ss.results(store.dir)
    assert len(long) == 10 and (long["status"] == "answered").all()       # the grammar admits only valid answers
    assert long["answer"].between(1, 6).all()
    assert (long["model_version"] == f"smollm2 (digest {file_sha256(model_path())[:12]})").all()
    assert (long["backend"] == "ollama").all()
    assert ollama_server.chats_served() >= 10


def test_distribution_mode_reads_logprobs(tmp_path, ollama_server):
    store = ss.run(write_study(tmp_path, n=1, instruments=(MINI5,),
                               models=[ollama_model(ollama_server, "distribution")]), tmp_path / "run")
    long = ss.results(store.dir)
    assert set(long["status"]) <= {"answered", "invalid"}
    answered = long[long["status"] == "answered"]
    assert answered[[f"p_{k}" for k in range(1, 7)]].sum(axis=1).round(9).eq(1).all()
    assert long["raw_output"].str.startswith("next-token top 20").all()


def test_an_unknown_model_stops_with_a_clear_message(tmp_path, ollama_server):
    from support.studies import cli

    model = ollama_model(ollama_server, "sample")
    model["model"] = "no-such-model"
    result = cli("run", write_study(tmp_path, n=1, instruments=(MINI5,), models=[model]), "--out", tmp_path / "r")
    assert result.returncode == 2 and "has no model 'no-such-model'" in result.stderr and "ollama pull" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.slow
def test_several_models_in_one_study(tmp_path, ollama_server, llama_server):
    models = [{"id": "embedded", "backend": "embedded", "answer_mode": "distribution"},
              {"id": "served", "backend": "openai", "model": llama_server.alias, "answer_mode": "sample",
               "temperature": 0.7, "options": {"base_url": llama_server.base_url}},
              ollama_model(ollama_server, "sample")]
    store = ss.run(write_study(tmp_path, n=2, instruments=(MINI5,), models=models), tmp_path / "run")
    long = ss.results(store.dir)
    assert len(long) == 3 * 10 and long["cell_id"].is_unique
    assert dict(long.groupby("model")["backend"].first()) == {"embedded": "embedded", "served": "openai",
                                                              "ollama-sample": "ollama"}
    versions = long.groupby("model")["model_version"].first()
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in versions["embedded"]
    assert versions["served"] == "smollm2" and versions["ollama-sample"].startswith("smollm2 (digest ")
    assert long["status"].isin(["answered", "invalid", "refused"]).all()
    # design: persona × item × model × replicate; the same personas and item positions for every model
    assert long.groupby(["persona_id", "item_id"])["position"].nunique().eq(1).all()


def test_faults_in_front_of_the_ollama_server(tmp_path, ollama_server):
    from support.fault_proxy import FaultProxy

    # /api/tags (the version) passes; then per cell, in order, one at a time, no re-asks:
    script = ["ok", "500", "429:1", "ok", "drop", "malformed", "500", "refuse", "refuse", "refuse"]
    proxy = FaultProxy(ollama_server.host, script)
    try:
        model = ollama_model(ollama_server, "sample", concurrency=1, max_attempts=3, max_reasks=2, base_delay=0.05)
        model["options"]["host"] = proxy.base_url
        study = write_study(tmp_path, n=1, instruments=(MINI5,), models=[model], item_order="fixed")
        store = ss.run(study, tmp_path / "run")
    finally:
        proxy.stop()
    long = ss.results(store.dir).sort_values("position").reset_index(drop=True)
    assert long["status"].tolist()[:3] == ["answered", "failed", "refused"]
    assert "HTTP 500" in long.loc[1, "reason"] and "after 3 attempts" in long.loc[1, "reason"]
    assert long.loc[2, "raw_output"].startswith("I'm sorry")
    chats = [entry for entry in proxy.log if entry["path"] == "/api/chat"]
    assert [c["fault"] for c in chats[:9]] == script[1:]               # bounded: 3 tries, 3 asks
    assert chats[2]["time"] - chats[1]["time"] >= 1.0                  # Retry-After honoured
    assert len(chats) == 9 + 2 and long["cell_id"].is_unique
    # the one re-ask policy: the refused cell's second and third asks carry the reply and the validation error
    # as the next turns, with the same seed (never the same prompt again with a new seed)
    import json

    first, *again = (json.loads(c["body"]) for c in chats[6:9])
    for number, body in enumerate(again, start=1):
        added = body["messages"][len(first["messages"]):]
        assert [m["role"] for m in added] == ["assistant", "user"] * number
        assert added[0]["content"].startswith("I'm sorry") and "Validation Error found" in added[1]["content"]
        assert body["options"]["seed"] == first["options"]["seed"]
    policy = store.manifest()["models"]["ollama-sample"]["retry_policy"]
    assert policy["max_reasks"] == 2 and "validation error" in policy["reask"]
