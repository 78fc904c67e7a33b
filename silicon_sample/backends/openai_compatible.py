"""Any OpenAI-compatible chat endpoint: hosted APIs, vLLM, llama.cpp's server, Ollama's /v1.

In ``sample`` mode the answer's pydantic model (:func:`silicon_sample.answers.answer_model`, only
valid options validate) is the contract, and output that does not validate is asked again up to
``max_reasks`` times. The default ``instructor_mode`` is ``tools`` (function calling; llama.cpp's
server rejects ``json_schema`` response formats): its calls are built, read and re-asked by
:mod:`.tool_calls` as instructor's ``tools`` mode does, without instructor's per-call overhead; the
modes ``json``, ``json_schema`` and ``md_json`` go through instructor's client. Output that never
validates is ``invalid``, or ``refused`` when it reads as a refusal, with the text kept.

Every call is posted as it is built (``client.post``: no per-call transform of the body) by one of
``ceil(concurrency / 32)`` clients per server (:data:`CALLS_PER_CLIENT`).

``distribution`` mode asks for one token with ``logprobs`` and
``top_logprobs`` (at most 20 on OpenAI's API); option probabilities are read
from the top-k list as :mod:`.option_logprobs` describes. Chat APIs cannot
continue a pre-filled assistant turn, so the layout's prefill is not used
here. A server that returns no log-probabilities stops the run with a clear
message (use ``sample`` mode there).

Credentials come from the environment (``OPENAI_API_KEY`` or the variable
named by ``api_key_env``); the base URL from the study or ``OPENAI_BASE_URL``.
The key is never written to manifests, caches or messages.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import random

from ..answers import Answer, AnswerRequest, answer_model, answer_value, answers_from_output, estimate_tokens
from ..errors import BackendError, InvalidOutput, MalformedReply
from .base import scrub
from .chat_reply import ChatReply, parse_reply
from .completion_prompts import completion_body, completion_top_logprobs, load_chat_template
from .http_base import HTTPBackend
from .option_logprobs import answer_from_top_logprobs
from .refusals import refused_or_invalid, settle
from .resilience import Failure, reasks, with_retries
from .tool_calls import logprob_body, read_reply, reask_messages, reply_text, tool_body

# instructor logs every failed attempt at ERROR; the outcome of each call is recorded in the run instead.
logging.getLogger("instructor").setLevel(logging.CRITICAL)

CALLS_PER_CLIENT = 32
"""Calls in flight per client: a server gets ``ceil(concurrency / 32)`` clients, used in turn. httpcore scans
every connection of its pool each time a request is queued or a connection freed, so one pool of 256
connections spends a third of the event loop's time scanning (measured by ``silicon-sample bench``)."""

INSTRUCTOR_MODES = {"tools": "TOOLS", "json": "JSON", "json_schema": "JSON_SCHEMA", "md_json": "MD_JSON"}


def classify_openai_error(exc: BaseException, o, api_key: str | None) -> Failure:
    """How a call through the openai client (module ``o``) failed: transient or final, and why (the key
    scrubbed)."""
    if isinstance(exc, o.RateLimitError):
        return Failure(True, "HTTP 429 rate limited", _retry_after(exc))
    if isinstance(exc, o.InternalServerError):
        return Failure(True, f"HTTP {exc.status_code} server error", _retry_after(exc))
    if isinstance(exc, (o.APITimeoutError, o.APIConnectionError)):
        return Failure(True, f"{type(exc).__name__}: connection failed or timed out")
    if isinstance(exc, o.APIStatusError):
        return Failure(False, scrub(f"HTTP {exc.status_code}: {exc.message}", api_key))
    if isinstance(exc, MalformedReply):
        return Failure(True, f"malformed response: {exc}")
    if isinstance(exc, (ValueError, o.APIResponseValidationError)):  # malformed JSON from the server
        return Failure(True, f"malformed response: {type(exc).__name__}")
    return Failure(False, scrub(f"{type(exc).__name__}: {exc}", api_key))


class OpenAICompatibleBackend(HTTPBackend):
    name = "openai"

    def __init__(self, model: str | None, *, base_url: str | list[str] | None = None,
                 api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 4, instructor_mode: str = "tools", top_logprobs: int = 20,
                 max_attempts: int = 4, max_reasks: int = 2, timeout: float = 60.0, base_delay: float = 0.5,
                 requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
                 chat_template: str | None = None):
        import instructor
        import openai

        if not model:
            raise BackendError("an OpenAI-compatible backend needs `model`", where="models[].model",
                               fix="name the model the server serves, e.g. gpt-4o-mini")
        if instructor_mode not in INSTRUCTOR_MODES:
            raise BackendError(f"unknown instructor_mode {instructor_mode!r}", where="models[].options",
                               fix=f"use one of: {', '.join(INSTRUCTOR_MODES)}")
        super().__init__(concurrency=concurrency, max_attempts=max_attempts, max_reasks=max_reasks, timeout=timeout,
                         base_delay=base_delay, requests_per_minute=requests_per_minute,
                         tokens_per_minute=tokens_per_minute)
        self.model = model
        if base_url is not None and not base_url:
            raise BackendError("base_url is empty", where="models[].options.base_url",
                               fix="give the server's URL, e.g. http://127.0.0.1:8000/v1, or leave base_url out")
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.set_servers(self.base_url)
        self.api_key_env = api_key_env
        self._api_key = self.secret = os.environ.get(api_key_env) or None
        self.top_logprobs = top_logprobs
        self.instructor_mode = instructor_mode
        # distribution mode through /completions with the prefill (completion_prompts.py), when given
        self.chat_template = load_chat_template(chat_template) if chat_template else None
        self._openai = openai
        self._instructor_module = instructor
        self._clients: list = []       # per server: a cycle of (client, instructor), made inside the event loop
        self._all_clients: list = []

    async def open_client(self) -> None:
        mode = getattr(self._instructor_module.Mode, INSTRUCTOR_MODES[self.instructor_mode])
        for url in self.pool.urls:
            shards = []
            for _ in range(-(-self.concurrency // CALLS_PER_CLIENT)):
                client = self._openai.AsyncOpenAI(
                    base_url=url, api_key=self._api_key or "not-needed",   # local servers ignore the key
                    max_retries=0, timeout=self.policy.timeout,
                    http_client=pooled_client(self._openai, self.concurrency))
                shards.append((client, self._instructor_module.from_openai(client, mode=mode)))
            self._clients.append(itertools.cycle(shards))
            self._all_clients.extend(client for client, _ in shards)

    async def close_client(self) -> None:
        for client in self._all_clients:
            await client.close()
        self._clients, self._all_clients = [], []

    def check_ready(self) -> None:
        if self._api_key is None and any("api.openai.com" in url for url in self.pool.urls):
            raise BackendError(f"no API key: the environment variable {self.api_key_env} is not set",
                               where=f"model {self.model}", fix=f"export {self.api_key_env}=... before running")
        super().check_ready()

    def check_presentation(self, presentation: str, mode: str) -> None:
        super().check_presentation(presentation, mode)
        if presentation == "battery" and self.instructor_mode != "tools":
            raise BackendError(f"a battery is answered by function calling here; instructor_mode "
                               f"{self.instructor_mode!r} asks for one answer per call",
                               where=f"model {self.model}", fix="use instructor_mode: tools (the default)")

    # -- classification of failures ----------------------------------------------------
    def classify(self, exc: BaseException) -> Failure:
        return classify_openai_error(exc, self._openai, self._api_key)

    # -- one request ---------------------------------------------------------------------
    async def _post(self, body: dict) -> ChatReply:
        """One chat completion, the body sent as it is (no per-call transform), on the server the pool
        chooses; the reply as a dict."""
        async def call(i: int) -> ChatReply:
            # a body that is not a chat completion raises MalformedReply: retried as malformed, then failed
            return parse_reply(await next(self._clients[i])[0].post("/chat/completions", body=body, cast_to=object))

        return await self.on_server(call)

    async def _complete(self, body: dict) -> dict:
        """One text completion (``/completions``), the reply as a dict."""
        async def call(i: int) -> dict:
            reply = await next(self._clients[i])[0].post("/completions", body=body, cast_to=object)
            if not isinstance(reply, dict):
                raise MalformedReply("not a text completion")
            return reply

        return await self.on_server(call)

    async def _distribution_by_completion(self, request: AnswerRequest) -> Answer:
        """Distribution mode with the prefill, through the completions endpoint (completion_prompts.py)."""
        prompt = self.chat_template.render(request.messages, request.prefill)
        body = completion_body(prompt, self.model, self.top_logprobs, request.temperature, request.seed)

        async def call():
            await self._limiter.acquire(len(prompt) // 4 + 1)
            return await self._complete(body)

        reply, _ = await with_retries(call, self.classify, self.policy, random.Random(request.seed))
        top = completion_top_logprobs(reply)
        fields = {"model_version": reply.get("model"), "prompt_tokens": (reply.get("usage") or {}).get(
            "prompt_tokens"), "completion_tokens": (reply.get("usage") or {}).get("completion_tokens")}
        if top is None:
            return Answer(request_id=request.request_id, status="invalid", reason=NO_LOGPROBS, **fields)
        return answer_from_top_logprobs(request, top, **fields)

    async def _distribution(self, request: AnswerRequest) -> Answer:
        if self.chat_template is not None and not request.battery:
            return await self._distribution_by_completion(request)
        body = logprob_body(request, self.model, self.top_logprobs)

        async def call():
            await self._limiter.acquire(estimate_tokens(request, 1))
            return await self._post(body)

        reply, _ = await with_retries(call, self.classify, self.policy, random.Random(request.seed))
        return answer_from_reply(request, reply)

    async def _sample_tools(self, request: AnswerRequest) -> list[Answer]:
        """Sample mode by function calling (:mod:`.tool_calls`): up to 1 + ``max_reasks`` asks, each with its
        own transport retries."""
        body = tool_body(request, self.model)
        rng = random.Random(request.seed)
        prompt_tokens = completion_tokens = 0
        for ask in reasks(self.policy):
            async def call(body=body):
                await self._limiter.acquire(estimate_tokens(request, request.max_tokens))
                return await self._post(body)

            reply, _ = await with_retries(call, self.classify, self.policy, rng)
            answers = answers_from_reply(request, reply, ask=ask + 1)
            tokens = reply.tokens()
            prompt_tokens += tokens["prompt_tokens"] or 0
            completion_tokens += tokens["completion_tokens"] or 0
            if all(a.status == "answered" for a in answers) or ask == self.policy.max_reasks:
                break
            why = read_reply(request, reply)[2]          # the validation error itself, as instructor re-asks
            body = {**body, "messages": [*body["messages"], *reask_messages(reply, why)]}
        # the tokens of every ask (a battery's on its first item)
        return [answers[0].model_copy(update={"prompt_tokens": prompt_tokens or None,
                                              "completion_tokens": completion_tokens or None}), *answers[1:]]

    async def _sample(self, request: AnswerRequest) -> Answer:
        """Sample mode through instructor's client (its ``json``, ``json_schema`` and ``md_json`` modes)."""
        messages = [m.model_dump() for m in request.messages]
        model = _tool_model(self._instructor_module, tuple(request.options), request.with_reason,
                            request.option_labels, request.question)

        async def call():
            # instructor may ask up to 1 + max_reasks times within one call
            await self._limiter.acquire(estimate_tokens(request, request.max_tokens) * (1 + self.policy.max_reasks))
            return await self.on_server(lambda i: next(self._clients[i])[1].chat.completions.create_with_completion(
                model=self.model, messages=messages, response_model=model, max_retries=self.policy.max_reasks,
                temperature=request.temperature, seed=request.seed, max_tokens=request.max_tokens),
                self._classify_instructor)

        try:
            (parsed, completion), _ = await with_retries(call, self._classify_instructor, self.policy,
                                                         random.Random(request.seed))
        except InvalidOutput as invalid:
            status, reason = refused_or_invalid(invalid.text, invalid.reason)
            return Answer(request_id=request.request_id, status=status, kind=request.kind, raw_output=invalid.text,
                          reason=reason)
        raw = _completion_text(completion)
        usage = completion.usage
        status, value, reason = answer_value(parsed.answer, tuple(request.options), request.option_labels,
                                             request.question)
        return Answer(request_id=request.request_id, status=status, kind=request.kind, value=value, reason=reason,
                      raw_output=raw,
                      model_version=completion.model, prompt_tokens=getattr(usage, "prompt_tokens", None),
                      completion_tokens=getattr(usage, "completion_tokens", None))

    def _classify_instructor(self, exc: BaseException) -> Failure:
        """instructor wraps transport errors and invalid output alike; tell them apart."""
        # instructor has two InstructorRetryException classes (core and v2); recognise either by its fields.
        if type(exc).__name__ == "InstructorRetryException" and hasattr(exc, "n_attempts"):
            cause = exc.__cause__ or exc.__context__
            transport = isinstance(cause, (self._openai.APIError, self._openai.APIConnectionError)) or (
                isinstance(cause, ValueError) and exc.last_completion is None and "validation" not in
                type(cause).__name__.lower())
            if transport:
                return self.classify(cause)
            raise InvalidOutput(_completion_text(exc.last_completion),
                           f"output did not match the answer schema after {exc.n_attempts} ask(s)")
        return self.classify(exc)

    async def answer_one(self, request: AnswerRequest) -> Answer:
        if request.mode == "distribution":
            return await self._distribution(request)
        return await (self._sample_tools(request) if self.instructor_mode == "tools" else self._sample(request))

    def describe(self) -> dict:
        import instructor
        import openai

        return {"backend": self.name, "model": self.model, "base_url": self.base_url, "servers": self.pool.describe(),
                "model_version": None, "instructor_mode": self.instructor_mode, "top_logprobs": self.top_logprobs,
                # only when set: the cache keys of chat-endpoint readings stay as they were
                **({"distribution_endpoint": f"completions, chat template sha256 {self.chat_template.sha256}"}
                   if self.chat_template else {}),
                **self.describe_common(), "openai": openai.__version__, "instructor": instructor.__version__}


NO_LOGPROBS = ("the server returned no log-probabilities (use answer_mode: sample for this server, or start it "
               "with logprobs support; llama.cpp: --logits_all true)")


def answer_from_reply(request: AnswerRequest, reply: ChatReply, ask: int = 1) -> Answer:
    """The answer in one chat completion (already :func:`.chat_reply.parse_reply`'d), whatever it holds:
    distribution mode reads the first token's top log-probabilities, sample mode validates the tool call
    (or text) against the answer's model; ``ask`` is the how-manieth ask this was (for the reason)."""
    fields = {"model_version": reply.model, **reply.tokens()}
    if request.mode == "distribution":
        top = reply.top_logprobs()
        if top is None:
            return Answer(request_id=request.request_id, status="invalid", reason=NO_LOGPROBS, **fields)
        return answer_from_top_logprobs(request, top, **fields)
    status, value, reason, raw = read_reply(request, reply)
    if status == "invalid":
        status, reason = refused_or_invalid(raw, f"output did not match the answer schema after {ask} ask(s): "
                                                 f"{reason}")
    return Answer(request_id=request.request_id, status=status, kind=request.kind, value=value, raw_output=raw,
                  reason=reason, **fields)


def answers_from_reply(request: AnswerRequest, reply: ChatReply, ask: int = 1) -> list[Answer]:
    """:func:`answer_from_reply` for every cell a request answers (a battery: one per field, validated field by
    field)."""
    if not request.battery:
        return [answer_from_reply(request, reply, ask)]
    fields = {"model_version": reply.model, **reply.tokens()}
    raw, wrong_tool = reply_text(request, reply)
    if wrong_tool:
        return [Answer(request_id=rid, status="invalid", raw_output=raw, reason=wrong_tool, **fields)
                for rid in request.answer_ids]
    return settle(answers_from_output(request, raw, **fields), raw,
                  f" (output did not match the answer schema after {ask} ask(s))")


def pooled_client(openai_module, connections: int):
    """The openai library's own async HTTP client, keeping ``connections`` connections alive.

    Its default keeps 100; a plain ``httpx.AsyncClient`` passed instead is about six times slower at
    256 calls in flight (measured by ``silicon-sample bench``), so the limits are set on the library's
    client, with the library's own ``Limits`` class."""
    defaults = openai_module._base_client.DEFAULT_CONNECTION_LIMITS
    limits = type(defaults)(max_connections=max(connections, defaults.max_connections),
                            max_keepalive_connections=max(connections, defaults.max_keepalive_connections),
                            keepalive_expiry=defaults.keepalive_expiry)
    return openai_module.DefaultAsyncHttpxClient(limits=limits)


@functools.lru_cache(maxsize=256)
def _tool_model(instructor_module, options: tuple[int, ...], with_reason: bool, labels: tuple[str, ...] | None = None,
                question=None):
    """The answer's pydantic model as instructor's schema class, made once per scale: given a plain model,
    instructor would build this class anew on every call (a third of the event loop's time at 256 calls
    in flight, measured by ``silicon-sample bench``)."""
    return instructor_module.openai_schema(answer_model(options, with_reason, labels, question))


def _retry_after(exc) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, ValueError):
        return None


def _completion_text(completion) -> str | None:
    if completion is None:
        return None
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError):
        return str(completion)
    if getattr(message, "tool_calls", None):
        return message.tool_calls[0].function.arguments
    return message.content
