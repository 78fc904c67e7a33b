"""The response cache: keyed on everything that shapes an answer, failed calls never cached, a drifted model
version never served — on a real llama.cpp server and the Ollama-protocol server."""

import pandas as pd
import pytest
import yaml

import silicon_sample as ss
from silicon_sample.answers import Answer, AnswerRequest, ChatMessage
from silicon_sample.backends import create
from silicon_sample.backends.response_cache import ResponseCache, answer_shaping, cache_key

from support.studies import FIXTURES, MINI5, cli, openai_study, write_study

pytestmark = pytest.mark.usefixtures("private_cache")

REQUEST = AnswerRequest(request_id="m/P001/profile_list/explicit/mini5/A2/r1", mode="sample", seed=7,
                        messages=(ChatMessage(role="system", content="You are a 30-year-old."),
                                  ChatMessage(role="user", content="Inquire about others' well-being.")),
                        options=(1, 2, 3, 4, 5, 6))


def key_of(request=REQUEST, **options):
    backend = create("openai", "smollm2", {"base_url": "http://127.0.0.1:9/v1", **options})
    return cache_key(answer_shaping(backend.describe()), request)


def test_failed_answers_are_never_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k1", Answer(request_id="a", status="failed", reason="HTTP 500 (after 4 attempts)"))
    cache.put("k2", Answer(request_id="b", status="refused", raw_output="I'm sorry", model_version="v1"))
    assert cache.get("k1") is None and [a.status for a in cache.get("k2")] == ["refused"]
    stored = cache.db.execute("SELECT model_version FROM cached_answers WHERE key = 'k2'").fetchone()
    assert stored == ("v1",)                                       # the reported version is kept with the answer


def test_the_key_covers_every_option_that_shapes_an_answer_and_nothing_else():
    base = key_of()
    assert key_of(REQUEST.model_copy(update={"request_id": "another cell"})) == base    # the id is not a prompt
    assert key_of(REQUEST.model_copy(update={"with_reason": True})) != base
    assert key_of(instructor_mode="json") != base
    assert key_of(top_logprobs=5) != base
    assert key_of(max_reasks=0) != base                            # re-asks can turn an invalid answer valid
    assert key_of(REQUEST.model_copy(update={"temperature": 0.5})) != base
    # how calls are made does not shape the answer
    assert key_of(concurrency=32, max_attempts=9, timeout=5, base_delay=2, requests_per_minute=60) == base


@pytest.mark.slow
def test_a_second_run_is_served_from_the_cache_and_fresh_bypasses_it(tmp_path, llama_server):
    server = llama_server
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


@pytest.mark.slow
def test_changing_reason_instructor_mode_or_top_logprobs_misses_the_cache(tmp_path, llama_server):
    def calls(name, mode, with_reason=False, **options):
        study = openai_study(tmp_path / name, llama_server, mode, n=1, max_reasks=0, **options)
        if with_reason:
            spec = yaml.safe_load(study.read_text())
            spec["models"][0].update(free_text_reason=True, max_tokens=120)
            study.write_text(yaml.safe_dump(spec))
        before = llama_server.completions_served()
        ss.run(study, tmp_path / name / "run")
        return llama_server.completions_served() - before

    assert calls("distribution", "distribution") == 5
    assert calls("distribution_again", "distribution") == 0            # the same study: every cell cached
    assert calls("fewer_logprobs", "distribution", top_logprobs=10) == 5
    assert calls("sample", "sample") == 5
    assert calls("with_reason", "sample", with_reason=True) == 5
    assert calls("json_mode", "sample", instructor_mode="json") == 5


def test_a_drifted_ollama_model_is_asked_again(tmp_path, tmp_path_factory):
    """The same model name, another digest on the same host: the cached answers are not served."""
    from support.servers import OllamaProtocolServer

    def run(name, server):
        study = write_study(tmp_path / name, n=1, instruments=(MINI5,), models=[{
            "id": "ollama", "backend": "ollama", "model": server.alias, "answer_mode": "distribution",
            "options": {"host": server.host}}])
        before = server.chats_served()
        long = ss.results(ss.run(study, tmp_path / name / "run").dir)
        return server.chats_served() - before, long

    logs = tmp_path_factory.mktemp("ollama_drift")
    server = OllamaProtocolServer(logs / "r1.log", revision="r1")
    try:
        sent, first = run("first", server)
        again, cached = run("again", server)
    finally:
        server.stop()
    assert (sent, again) == (5, 0)
    assert cached["reason"].str.startswith("served from the response cache").all()
    server = OllamaProtocolServer(logs / "r2.log", revision="r2", port=server.port)     # same host, new version
    try:
        drifted, after = run("drifted", server)
    finally:
        server.stop()
    assert drifted == 5
    assert after["model_version"].nunique() == 1 and after["model_version"].iloc[0] != first["model_version"].iloc[0]
    assert not after["reason"].fillna("").str.startswith("served from the response cache").any()


def test_a_version_reported_by_a_live_answer_retires_cached_answers_of_another(tmp_path, llama_server):
    """An OpenAI-compatible server names its version only in answers: the new cell of a run is asked first,
    and cached answers that another version gave are asked again."""
    from support.fault_proxy import FaultProxy

    six = yaml.safe_load((FIXTURES / "mini5.yaml").read_text())
    six["items"].append({"id": "C1", "text": "Am exacting in my work.", "scale": "conscientiousness"})
    (tmp_path / "mini6.yaml").write_text(yaml.safe_dump(six))
    proxy = FaultProxy(f"http://127.0.0.1:{llama_server.port}", [])
    server = type("Proxied", (), {"alias": llama_server.alias, "base_url": proxy.base_url + "/v1"})
    try:
        def run(name, instrument):
            before = len(proxy.completions())
            study = openai_study(tmp_path / name, server, "distribution", n=1, instruments=(instrument,))
            long = ss.results(ss.run(study, tmp_path / name / "run").dir)
            return len(proxy.completions()) - before, long

        assert run("five", MINI5)[0] == 5
        assert run("six_same_version", str(tmp_path / "mini6.yaml"))[0] == 1        # only the new item is sent
        six["items"].append({"id": "E1", "text": "Don't talk a lot.", "scale": "extraversion", "reverse": True})
        (tmp_path / "mini7.yaml").write_text(yaml.safe_dump(six))
        proxy.report_model = "smollm2-2026-11-24"                                    # the alias moved
        sent, long = run("seven_new_version", str(tmp_path / "mini7.yaml"))
    finally:
        proxy.stop()
    assert sent == 7                                   # the new item first, then the six cached ones again
    assert (long["model_version"] == "smollm2-2026-11-24").all()
    assert not long["reason"].fillna("").str.startswith("served from the response cache").any()
