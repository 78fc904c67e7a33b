"""The contract of a chat-completion reply: what the OpenAI-compatible and batch backends read from it.

A server may send anything; only the fields the engine reads are declared, each with the type it
must have, and anything else is ignored. :func:`parse_reply` turns a body into a :class:`ChatReply`
or raises :class:`MalformedReply` naming the first thing wrong ("choices: List should have at least
1 item"), which the backends treat as a malformed response: retried, then recorded ``failed`` with
that reason. Nothing a server sends can stop a run.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import MalformedReply


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Function(_Lenient):
    name: str | None = None
    arguments: str | None = None


class ToolCall(_Lenient):
    id: str | None = None
    type: str | None = None
    function: Function


class TopLogprob(_Lenient):
    token: str
    logprob: float           # may be NaN or infinite here: option_logprobs decides what it means


class TokenLogprob(_Lenient):
    token: str | None = None
    logprob: float | None = None
    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class Logprobs(_Lenient):
    content: list[TokenLogprob] | None = None


class Message(_Lenient):
    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCall] | None = None


class Choice(_Lenient):
    message: Message = Field(default_factory=Message)
    logprobs: Logprobs | None = None
    finish_reason: str | None = None


class Usage(_Lenient):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatReply(_Lenient):
    model: str | None = None
    choices: list[Choice] = Field(min_length=1)
    usage: Usage | None = None

    @property
    def message(self) -> Message:
        return self.choices[0].message

    def top_logprobs(self) -> list[tuple[str, float]] | None:
        """The first token's top log-probabilities, or ``None`` when the server gave none."""
        content = (self.choices[0].logprobs.content if self.choices[0].logprobs else None) or []
        if not content:
            return None
        return [(entry.token, entry.logprob) for entry in content[0].top_logprobs]

    def text(self) -> str:
        """What the model said: the tool call's arguments, or its text when it called no tool."""
        calls = self.message.tool_calls or []
        if calls:
            return calls[0].function.arguments or ""
        return self.message.content or ""

    def tokens(self) -> dict:
        usage = self.usage or Usage()
        return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}


def parse_reply(data) -> ChatReply:
    """Validate a reply body (a dict parsed from JSON) against :class:`ChatReply`.

    >>> parse_reply({"choices": [{"message": {"content": "4"}}]}).text()
    '4'
    >>> try:
    ...     parse_reply({"choices": []})
    ... except MalformedReply as exc:
    ...     print(str(exc)[:57])
    not a chat completion: choices: List should have at least
    """
    if not isinstance(data, dict):
        raise MalformedReply(f"not a chat completion: the body is a {type(data).__name__}, not a JSON object")
    try:
        return ChatReply.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedReply(f"not a chat completion: {where}: {first['msg']}") from None


__all__ = ["ChatReply", "parse_reply"]
