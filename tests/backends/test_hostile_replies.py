"""Whatever a server sends, every cell ends with a recorded status and reason and no run aborts: generated
hostile bodies through the OpenAI-compatible and Ollama readers (hypothesis), and whole runs against a
hostile server on 127.0.0.1 (tests/support/hostile_server.py)."""

from __future__ import annotations

import math

import ollama
import pydantic
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import silicon_sample as ss
from silicon_sample.answers import RAW_MAX_CHARACTERS, STATUSES, Answer, AnswerRequest, ChatMessage
from silicon_sample.backends.chat_reply import parse_reply
from silicon_sample.backends.ollama_native import answer_from_chat
from silicon_sample.backends.openai_compatible import answer_from_reply
from silicon_sample.backends.option_logprobs import SUM_TOLERANCE
from silicon_sample.errors import MalformedReply

from support.hostile_server import KINDS, HostileServer
from support.studies import write_study

OPTIONS = (1, 2, 3, 4, 5)
REQUESTS = {mode: AnswerRequest(request_id="c1", messages=(ChatMessage(role="user", content="Rate it."),),
                                options=OPTIONS, mode=mode, seed=11) for mode in ("distribution", "sample")}


def assert_recorded(answer: Answer) -> None:
    """A status, and a reason for anything but an answer; an answer's numbers are numbers."""
    assert isinstance(answer, Answer) and answer.status in STATUSES
    event(answer.status)
    if answer.status != "answered":
        assert isinstance(answer.reason, str) and answer.reason
        return
    assert answer.value in OPTIONS
    if answer.probabilities is not None:
        p = list(answer.probabilities.values())
        assert all(math.isfinite(x) and x >= 0 for x in p) and math.isclose(sum(p), 1.0, abs_tol=1e-9)
        assert 0 < answer.option_mass <= 1 + SUM_TOLERANCE
    assert answer.raw_output is None or len(answer.raw_output) <= RAW_MAX_CHARACTERS + 100


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
logprob = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**6, 10) | st.text(max_size=3) | st.none()
top_entry = st.fixed_dictionaries({"token": st.sampled_from(["1", " 2", "3", "4 ", "5", "x", "", "6"]) | st.text(
    max_size=3) | st.integers(), "logprob": logprob})
near_reply = st.fixed_dictionaries({
    "model": st.text(max_size=8) | st.none(),
    "choices": st.lists(st.fixed_dictionaries({
        "message": st.fixed_dictionaries({
            "content": st.none() | st.text(max_size=40) | st.sampled_from(['{"answer": 3}', '{"answer": 9}',
                                                                          "I'm sorry, I cannot rate that."]),
            "tool_calls": st.none() | st.lists(st.fixed_dictionaries({"id": st.text(max_size=4), "function": (
                st.fixed_dictionaries({"name": st.just("StructuredAnswer"), "arguments": st.sampled_from(
                    ['{"answer": 2}', '{"answer": 0}', '{"answer": "2"}', "{", ""]) | json_values}))}), max_size=2)}),
        "logprobs": st.none() | json_values | st.fixed_dictionaries({"content": st.lists(st.fixed_dictionaries({
            "token": st.text(max_size=2), "logprob": logprob, "top_logprobs": st.lists(top_entry, max_size=8)}),
            max_size=2)})}), max_size=2),
    "usage": st.none() | json_values | st.fixed_dictionaries({"prompt_tokens": st.integers(0, 10**6),
                                                            "completion_tokens": st.integers(0, 10**6)})})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values | near_reply, mode=st.sampled_from(["distribution", "sample"]))
def test_any_openai_compatible_body_is_read_into_a_recorded_status_or_called_malformed(body, mode):
    try:
        reply = parse_reply(body)
    except MalformedReply as malformed:      # retried as a malformed response, then recorded failed
        assert str(malformed).startswith("not a chat completion: ")
        event("malformed")
        return
    assert_recorded(answer_from_reply(REQUESTS[mode], reply))


ollama_body = st.fixed_dictionaries({
    "model": st.text(max_size=8), "created_at": st.just("2026-01-01T00:00:00Z"), "done": st.booleans(),
    "message": st.fixed_dictionaries({"role": st.just("assistant"), "content": st.text(max_size=40) | st.sampled_from(
        ['{"answer": 4}', '{"answer": 7}', "I am unable to answer that."])}),
    "logprobs": st.none() | st.lists(st.fixed_dictionaries({"token": st.text(max_size=2), "logprob": st.floats(
        allow_nan=True, allow_infinity=True), "top_logprobs": st.lists(st.fixed_dictionaries({
            "token": st.sampled_from(["1", " 2", "3", "x"]), "logprob": st.floats(allow_nan=True,
                                                                                   allow_infinity=True)}),
            max_size=6)}), max_size=2),
    "prompt_eval_count": st.none() | st.integers(0, 10**6), "eval_count": st.none() | st.integers(0, 10**6)})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=ollama_body | json_values, mode=st.sampled_from(["distribution", "sample"]))
def test_any_ollama_body_is_read_into_a_recorded_status_or_called_malformed(body, mode):
    try:
        response = ollama.ChatResponse.model_validate(body)   # what the ollama client does with a body
    except (pydantic.ValidationError, TypeError, ValueError):  # the backend retries it as malformed
        return
    assert_recorded(answer_from_chat(REQUESTS[mode], response, None, ask=1))


@pytest.mark.usefixtures("private_cache")
@pytest.mark.parametrize("mode", ["distribution", "sample"])
def test_a_run_against_a_hostile_server_ends_with_every_cell_recorded(tmp_path, mode):
    server = HostileServer()
    try:
        study = write_study(tmp_path, n=4, models=[{
            "id": "hostile", "backend": "openai", "model": "m", "answer_mode": mode, "temperature": 0.7,
            "options": {"base_url": server.base_url, "concurrency": 8, "max_attempts": 2, "max_reasks": 1,
                        "base_delay": 0.01}}])
        store = ss.run(study, tmp_path / "run")
    finally:
        server.stop()
    long = ss.results(store.dir)
    assert len(long) == 100 and long["status"].isin(STATUSES).all()
    assert long.loc[long["status"] != "answered", "reason"].notna().all()
    assert len(server.served) >= len(KINDS) - 2                     # nearly every kind was met
    reasons = " | ".join(long["reason"].dropna())
    assert "not a chat completion: choices" in reasons              # wrong shapes: retried, then failed
    assert "malformed response" in reasons and "(after 2 attempts)" in reasons
    if mode == "distribution":
        assert "the options' probability mass is 0" in reasons
        assert "the server's log-probabilities are not valid" in reasons
        assert "the server returned no log-probabilities" in reasons
    else:
        oversize = long[long["raw_output"].fillna("").str.contains("truncated: 1000000 characters")]
        assert len(oversize) and (oversize["status"] == "invalid").all()
        assert oversize["raw_output"].str.len().max() < RAW_MAX_CHARACTERS + 100
