"""Ollama's native API through the ``ollama`` client.

``sample`` mode sends the answer's JSON Schema as ``format`` (Ollama applies
it as a grammar) and validates the reply with the answer's pydantic model; an
invalid reply is asked again with the validation error (:mod:`.resilience`'s one
re-ask policy, up to ``max_reasks`` times), then recorded as ``invalid`` — or
``refused`` when it reads as a refusal. ``distribution`` mode asks for one token with
``logprobs``/``top_logprobs`` and reads option probabilities as
:mod:`.option_logprobs` describes. ``options`` carries temperature, seed,
num_ctx and num_predict. The model's version is the digest ``/api/tags``
reports. Transient failures are retried as :mod:`.resilience` describes,
honouring ``Retry-After``.
"""

from __future__ import annotations

import contextvars
import json
import os
import random

from ..answers import Answer, AnswerRequest, answers_from_output, estimate_tokens, request_schema
from ..errors import BackendError
from .http_base import HTTPBackend
from .option_logprobs import answer_from_top_logprobs
from .refusals import settle
from .resilience import REASK, Failure, reasks, with_retries

# The ollama client's ResponseError carries no headers; an httpx response hook keeps Retry-After for the
# task that made the request.
_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("retry_after", default=None)


async def _remember_retry_after(response) -> None:
    if response.status_code in (429, 503):
        try:
            _retry_after.set(float(response.headers.get("retry-after")))
        except (TypeError, ValueError):
            _retry_after.set(None)


class OllamaBackend(HTTPBackend):
    name = "ollama"

    def __init__(self, model: str | None, *, host: str | list[str] | None = None, concurrency: int = 2,
                 top_logprobs: int = 20,
                 num_ctx: int | None = None, max_attempts: int = 4, max_reasks: int = 2, timeout: float = 120.0,
                 base_delay: float = 0.5, requests_per_minute: float | None = None,
                 tokens_per_minute: float | None = None):
        import ollama

        if not model:
            raise BackendError("an Ollama backend needs `model`", where="models[].model",
                               fix="name a model the server has (ollama list), e.g. llama3.2:3b")
        super().__init__(concurrency=concurrency, max_attempts=max_attempts, max_reasks=max_reasks, timeout=timeout,
                         base_delay=base_delay, requests_per_minute=requests_per_minute,
                         tokens_per_minute=tokens_per_minute)
        self.model = model
        if host is not None and not host:
            raise BackendError("host is empty", where="models[].options.host",
                               fix="give the Ollama server's URL, e.g. http://127.0.0.1:11434, or leave host out "
                                   "(then OLLAMA_HOST, else http://127.0.0.1:11434)")
        self.host = host or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        self.set_servers(self.host)
        self.top_logprobs, self.num_ctx = top_logprobs, num_ctx
        self._ollama = ollama
        self._version: str | None = None
        self._clients: list = []

    async def open_client(self) -> None:
        self._clients = [self._ollama.AsyncClient(host=url, timeout=self.policy.timeout,
                                                  event_hooks={"response": [_remember_retry_after]})
                         for url in self.pool.urls]

    async def close_client(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients = []

    def classify(self, exc: BaseException) -> Failure:
        import httpx

        if isinstance(exc, self._ollama.ResponseError):
            code = exc.status_code
            if code == 429 or code >= 500:
                return Failure(True, f"HTTP {code}: {exc.error}", _retry_after.get())
            return Failure(False, f"HTTP {code}: {exc.error}")
        if isinstance(exc, (httpx.TransportError, ConnectionError)):
            return Failure(True, f"{type(exc).__name__}: connection failed or timed out")
        if isinstance(exc, (json.JSONDecodeError, ValueError)):
            return Failure(True, f"malformed response: {type(exc).__name__}")
        return Failure(False, f"{type(exc).__name__}: {exc}")

    async def _chat(self, request: AnswerRequest, seed: int, turns: list[dict] = (), **extra):
        """One chat call: the request's messages and any re-ask ``turns`` after them."""
        options = {"temperature": request.temperature, "seed": seed}
        if self.num_ctx:
            options["num_ctx"] = self.num_ctx
        options.update(extra.pop("options", {}))

        async def call():
            await self._limiter.acquire(estimate_tokens(request, options.get("num_predict", request.max_tokens)))
            _retry_after.set(None)
            messages = [*(m.model_dump() for m in request.messages), *turns]
            return await self.on_server(lambda i: self._clients[i].chat(
                model=self.model, messages=messages, stream=False, options=options, **extra))

        response, _ = await with_retries(call, self.classify, self.policy, random.Random(seed))
        return response

    def _version_from(self, listing) -> str:
        digest = next((m.digest for m in listing.models if m.model.split(":")[0] == self.model.split(":")[0]), None)
        if digest is None:
            raise BackendError(f"the Ollama server at {self.pool.urls[0]} has no model {self.model!r}",
                               where=f"model {self.model}", fix=f"ollama pull {self.model}")
        return f"{self.model} (digest {digest[:12]})"

    async def _version_of(self) -> str:
        if self._version is None:
            self._version = self._version_from(await self._clients[0].list())   # the pool serves one model
        return self._version

    def reported_version(self) -> str | None:
        """The model's digest from ``/api/tags`` (asked once per backend; the answers carry the same)."""
        if self._version is None:
            import httpx

            try:
                self._version = self._version_from(self._ollama.Client(host=self.pool.urls[0],
                                                                       timeout=self.policy.timeout).list())
            except (httpx.HTTPError, ConnectionError, self._ollama.ResponseError):
                return None     # the run's own calls will report what is wrong with the server
        return self._version

    async def answer_one(self, request: AnswerRequest) -> Answer | list[Answer]:
        version = await self._version_of()
        if request.mode == "distribution":
            response = await self._chat(request, request.seed, logprobs=True,
                                        top_logprobs=self.top_logprobs, options={"num_predict": 1})
            return answer_from_chat(request, response, version, ask=1)
        schema = request_schema(request)
        turns: list[dict] = []
        for ask in reasks(self.policy):
            response = await self._chat(request, request.seed, format=schema, turns=turns,
                                        options={"num_predict": request.max_tokens})
            answers = answers_from_chat(request, response, version, ask=ask + 1)
            if all(a.status == "answered" for a in answers):
                break
            why = next(a.reason for a in answers if a.status != "answered")
            text = response.message.content if response.message is not None else ""
            turns += [{"role": "assistant", "content": text or ""},
                      {"role": "user", "content": REASK.format(error=why)}]
        return answers

    def describe(self) -> dict:
        import ollama

        return {"backend": self.name, "model": self.model, "base_url": self.host, "servers": self.pool.describe(),
                "model_version": self._version,
                "top_logprobs": self.top_logprobs, **self.describe_common(),
                "ollama_client": getattr(ollama, "__version__", None)}


NO_LOGPROBS = ("the server returned no log-probabilities (use answer_mode: sample for this server, or an "
               "Ollama version with logprobs)")


def answer_from_chat(request: AnswerRequest, response, version: str | None, ask: int) -> Answer:
    """The answer in one chat response of the ollama client (a ``ChatResponse``), whatever its content:
    distribution mode reads the first token's top log-probabilities, sample mode validates the text
    against the answer's model; ``ask`` is the how-manieth ask this was (for the reason)."""
    fields = {"model_version": version, "prompt_tokens": response.prompt_eval_count,
              "completion_tokens": response.eval_count}
    if request.mode == "distribution":
        first = (response.logprobs or [None])[0]
        if first is None:
            return Answer(request_id=request.request_id, status="invalid", reason=NO_LOGPROBS, **fields)
        top = [(t.token, t.logprob) for t in first.top_logprobs or []]
        return answer_from_top_logprobs(request, top, **fields)
    return answers_from_chat(request, response, version, ask)[0]


def answers_from_chat(request: AnswerRequest, response, version: str | None, ask: int) -> list[Answer]:
    """:func:`answer_from_chat` for every cell a request answers (a battery: one per field)."""
    if request.mode == "distribution":
        return [answer_from_chat(request, response, version, ask)]
    fields = {"model_version": version, "prompt_tokens": response.prompt_eval_count,
              "completion_tokens": response.eval_count}
    text = response.message.content if response.message is not None else None
    return settle(answers_from_output(request, text or "", **fields), text, f" (after {ask} ask(s))")
