"""Can the embedded model evaluate many item tails in one llama.cpp batch (issue 32, part 2)?

Evaluates the 25 bfi item tails of 8 pilot-style personas (200 requests) on SmolLM2-135M-Instruct in four ways
and prints how far their option probabilities lie from today's (one sequence at a time, llama.cpp's default
attention) and how fast each one is:

- *today*: ``EmbeddedBackend.answer`` (persona prefix in the KV cache, each tail one ``llama_decode``);
- *multi-sequence*: the prefix on sequence 0, copied to sequences 1…k (``llama_memory_seq_cp``, no data copied),
  and up to 512 tokens of tails in one ``llama_decode``, one sequence each, logits of each tail's last token;
- both again with flash attention switched on (``flash_attn_type = 1``; llama.cpp leaves it off on this CPU).

Also: two identical tails in one batch (sequences 1 and 2), which must give identical logits, and the decode
rate (tokens/s) of one sequence at batch sizes 20–500 with and without flash attention.

Run:  .venv/bin/python analysis/embedded_batching.py   (prints; about 3 minutes on 2 cores)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import llama_cpp
import numpy as np
from llama_cpp import _internals as internals

from silicon_sample.backends.embedded import EmbeddedBackend
from silicon_sample.throughput.measure import study_requests

SEQUENCES = 64


def with_context(backend: EmbeddedBackend, flash: int) -> None:
    """Give the backend's Llama a context of SEQUENCES sequences over one unified KV cache."""
    llm = backend.llm
    params = llm.context_params
    params.n_seq_max, params.kv_unified, params.flash_attn_type = SEQUENCES, True, flash
    old = llm._ctx
    llm._ctx = internals.LlamaContext(model=llm._model, params=params, verbose=False)
    old.close()
    llm.reset()


def probabilities(backend: EmbeddedBackend, requests) -> dict[str, np.ndarray]:
    return {a.request_id: np.array([a.probabilities[k] for k in sorted(a.probabilities)])
            for a in backend.answer(requests)}


def multi_sequence(backend: EmbeddedBackend, requests) -> dict[str, np.ndarray]:
    llm = backend.llm
    memory = llm._ctx.memory
    batch = llama_cpp.llama_batch_init(512, 0, SEQUENCES)
    out = {}
    groups: dict[tuple, list] = {}
    for r in requests:
        segments = backend.prompt_segments(r)
        groups.setdefault(tuple(segments[0]), []).append((r, segments[1]))
    for prefix, items in groups.items():
        llm.reset()
        llm.eval(list(prefix))
        start = 0
        while start < len(items):
            chunk, total = [], 0
            while (start + len(chunk) < len(items) and len(chunk) < SEQUENCES - 1
                   and total + len(items[start + len(chunk)][1]) <= 512):
                total += len(items[start + len(chunk)][1])
                chunk.append(items[start + len(chunk)])
            batch.n_tokens, last = 0, []
            for s, (_, tail) in enumerate(chunk, start=1):
                llama_cpp.llama_memory_seq_cp(memory, 0, s, 0, len(prefix))
                for j, token in enumerate(tail):
                    i = batch.n_tokens
                    batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, len(prefix) + j, 1
                    batch.seq_id[i][0], batch.logits[i] = s, j == len(tail) - 1
                    batch.n_tokens += 1
                last.append(batch.n_tokens - 1)
            assert llama_cpp.llama_decode(llm._ctx.ctx, batch) == 0
            for (r, _), i in zip(chunk, last):
                z = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, i),
                                          shape=(backend._n_vocab,)).astype(np.float64)
                z = z[backend.option_token_ids(r.options, r.prefill or "")] / max(r.temperature, 1e-6)
                p = np.exp(z - z.max())
                out[r.request_id] = p / p.sum()
            for s in range(1, len(chunk) + 1):
                llama_cpp.llama_memory_seq_rm(memory, s, -1, -1)
            start += len(chunk)
    llama_cpp.llama_batch_free(batch)
    return out


def timed(function, *args) -> tuple[object, float]:
    best, result = np.inf, None
    for _ in range(2):
        started = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
    return result, best


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        requests = study_requests(Path(folder), 8, {"id": "smollm2", "backend": "embedded",
                                                    "answer_mode": "distribution", "temperature": 1.0})
    backend = EmbeddedBackend(n_threads=2)
    today, today_s = timed(probabilities, backend, requests)
    print(f"{len(requests)} requests, tails of {np.mean([len(backend.prompt_segments(r)[1]) for r in requests]):.1f} "
          f"tokens after a {len(backend.prompt_segments(requests[0])[0])}-token persona prefix")
    print(f"today (one sequence, default attention): {len(requests) / today_s:.1f} items/s")
    for flash in (0, 1):
        with_context(backend, flash)
        single, single_s = timed(probabilities, backend, requests)
        multi, multi_s = timed(multi_sequence, backend, requests)
        gap_single = max(np.abs(single[k] - today[k]).max() for k in today)
        gap_multi = max(np.abs(multi[k] - today[k]).max() for k in today)
        gap_within = max(np.abs(multi[k] - single[k]).max() for k in today)
        label = "flash attention" if flash else "default attention"
        print(f"{label}: one sequence {len(requests) / single_s:.1f} items/s (max |p - today| {gap_single:.2e}); "
              f"multi-sequence {len(requests) / multi_s:.1f} items/s (max |p - today| {gap_multi:.2e}, "
              f"max |p - one sequence, same attention| {gap_within:.2e})")
        tail = backend.prompt_segments(requests[0])[1]
        twins = multi_sequence(backend, [requests[0], requests[0].model_copy(update={"request_id": "twin"})])
        print(f"  the same tail on sequences 1 and 2: max |p1 - p2| "
              f"{np.abs(twins[requests[0].request_id] - twins['twin']).max():.2e} ({len(tail)} tokens)")
        llm, tokens = backend.llm, list(range(1000, 1600))
        rates = []
        for size in (20, 60, 160, 500):
            best = 0.0
            for _ in range(3):
                started, n = time.perf_counter(), 0
                while n < 1500:
                    llm.n_tokens = 165
                    llm.eval(tokens[:size])
                    n += size
                best = max(best, n / (time.perf_counter() - started))
            rates.append(f"{size}: {best:.0f}")
        print(f"  decode tokens/s by batch size ({label}): " + ", ".join(rates))
    backend.close()


if __name__ == "__main__":
    main()
