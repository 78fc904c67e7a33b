"""Distribution mode on a server through its text-completion endpoint: the chat template rendered here, the
assistant turn pre-filled, the next token's log-probabilities read there.

A chat endpoint starts a new assistant turn and cannot be told how it begins: SmolLM2 behind a llama.cpp
chat endpoint put 3.6 % of its next-token probability on the option digits (it wants to write words
first), and a tenth of the cells came out without any option among the top tokens. The embedded model, which
pre-fills ``Answer: ``, puts 98.6 % there. A server with a completions endpoint (llama.cpp, vLLM, Ollama's
raw mode via its OpenAI-compatible ``/v1/completions``) reads the same way as the embedded model: the
messages are rendered with the model's own chat template, the layout's prefill appended, and the prompt
sent to ``/completions`` with ``max_tokens: 1`` and ``logprobs``; the options are read from the top
log-probabilities by :func:`~silicon_sample.backends.option_logprobs.answer_from_top_logprobs`, as from a
chat reply.

The template is the backend option ``chat_template``: a Jinja file, or ``gguf:PATH`` — the
``tokenizer.chat_template`` stored in a GGUF model file (the file the server serves), read with llama.cpp
without loading the weights. It is rendered in the same sandbox as the embedded model's
(:mod:`silicon_sample.templating`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import templating
from ..answers import ChatMessage
from ..errors import BackendError

TRANSCRIPT_TEMPLATE = """{% for message in messages %}{% if message.role == 'system' %}\
{% if message.content %}{{ message.content }}

{% endif %}{% elif message.role == 'user' %}Question: {{ message.content }}
{% else %}{{ message.content }}

{% endif %}{% endfor %}"""
"""How a model with no chat template (a base, pretrained model) is prompted: a plain-text transcript — the
system part as a paragraph, each question after ``Question:``, each earlier answer on its own line — so that
the layout's prefill (``Answer: ``) continues a document the model has seen the like of (the tokenizer adds the
BOS token). Jinja, rendered in
the chat sandbox like any chat template. On Gemma 3 270M (base) it put more next-token probability on the
option digits than Gemma's own turn markers did (README, "A base model beside an instruct model")."""


@dataclass(frozen=True)
class ChatTemplate:
    source: str
    bos: str = ""
    eos: str = ""
    origin: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def render(self, messages: tuple[ChatMessage, ...], prefill: str | None) -> str:
        """The prompt of a completion: the messages as the model's template writes them, the assistant turn
        begun, then the prefill."""
        template = _compiled(self.source, self.origin)

        @templating.template_callable
        def raise_exception(message):
            raise BackendError(f"chat template error: {message}", where=self.origin)

        text = template.render(messages=[m.model_dump() for m in messages], add_generation_prompt=True,
                               bos_token=self.bos, eos_token=self.eos, raise_exception=raise_exception)
        return text + (prefill or "")


@lru_cache(maxsize=8)
def _compiled(source: str, origin: str):
    templating.check_template(source, origin, environment=templating.CHAT_SANDBOX,
                              forbidden=templating.CHAT_FORBIDDEN_NAMES)
    return templating.CHAT_SANDBOX.from_string(source)


def load_chat_template(spec: str) -> ChatTemplate:
    """``gguf:PATH`` (the template stored in a GGUF file, with its BOS and EOS tokens) or a Jinja file's
    path."""
    if spec.startswith("gguf:"):
        return _from_gguf(Path(spec[5:]).expanduser())
    path = Path(spec).expanduser()
    if not path.is_file():
        raise BackendError("chat template file not found", where=str(path),
                           fix="give a Jinja chat template file, or gguf:/path/to/model.gguf")
    return ChatTemplate(path.read_text(encoding="utf-8"), origin=str(path))


@lru_cache(maxsize=4)
def _from_gguf(path: Path) -> ChatTemplate:
    import llama_cpp

    if path.suffix != ".gguf" or not path.is_file():
        raise BackendError("not a GGUF model file", where=str(path), fix="give gguf:/path/to/the/served/model.gguf")
    try:
        llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    except Exception as exc:        # llama.cpp reports a bad file as ValueError/RuntimeError
        raise BackendError(f"llama.cpp could not read the file ({exc})", where=str(path)) from None
    try:
        source = llm.metadata.get("tokenizer.chat_template")
        if not source:
            raise BackendError("the GGUF file has no chat template (tokenizer.chat_template)", where=str(path),
                               fix="give the template as a Jinja file instead")
        bos = llm.detokenize([llm.token_bos()]).decode("utf-8", "replace")
        eos = llm.detokenize([llm.token_eos()]).decode("utf-8", "replace")
    finally:
        llm.close()
    return ChatTemplate(source, bos=bos, eos=eos, origin=f"{path}: tokenizer.chat_template")


def completion_body(prompt: str, model: str, top_logprobs: int, temperature: float, seed: int) -> dict:
    """The text completion request of one distribution-mode cell: one token and its top log-probabilities."""
    return {"model": model, "prompt": prompt, "max_tokens": 1, "logprobs": top_logprobs,
            "temperature": temperature, "seed": seed}


def completion_top_logprobs(body) -> list[tuple[str, float]] | None:
    """The first token's top log-probabilities of a text completion (``choices[0].logprobs.top_logprobs[0]``,
    a mapping of token to log-probability); ``None`` when the server sent none. Anything else in their place
    is a :class:`~silicon_sample.errors.MalformedReply`."""
    from ..errors import MalformedReply

    try:
        logprobs = body["choices"][0].get("logprobs")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise MalformedReply("not a text completion: no choices[0]") from None
    if not logprobs:
        return None
    top = (logprobs.get("top_logprobs") or [None])[0] if isinstance(logprobs, dict) else None
    if not isinstance(top, dict):
        return None
    return [(str(token), value) for token, value in top.items()]


__all__ = ["TRANSCRIPT_TEMPLATE", "ChatTemplate", "completion_body", "completion_top_logprobs", "load_chat_template"]
