"""Structured answers by function calling: the request body, the reading of the reply, the re-ask.

As in instructor's ``tools`` mode, the answer's pydantic model
(:func:`silicon_sample.answers.answer_model`) is the contract: it becomes the one tool the model must call
(its schema is :func:`instructor.openai_schema` of the model, so the request is the one instructor
sends), the tool call's arguments are validated by the same model
(:func:`~silicon_sample.answers.parse_structured`, the one place output is validated), and output that
does not validate is asked again with the validation error, in the words instructor uses.

Why not instructor's client here: at 256 calls in flight, instructor's per-call work (wrapping the
model, scanning it for async validators, its retry loop) and the openai client's request transform took
over a third of the event loop's time, and the run reached 0.53 of a bare client's rate (measured by
``silicon-sample bench``). The synchronous OpenAI-compatible backend (``instructor_mode: tools``, the
default) and the Batch API backend build and read their calls here; instructor's other modes (``json``,
``json_schema``, ``md_json``) still go through instructor itself.
"""

from __future__ import annotations

import functools

from ..answers import AnswerRequest, parse_output, request_model
from .chat_reply import ChatReply
from .resilience import REASK


@functools.lru_cache(maxsize=256)
def _tool(model) -> dict:
    import instructor

    return {"type": "function", "function": instructor.openai_schema(model).openai_schema}


def answer_tool(request: AnswerRequest) -> dict:
    """The tool of a request's answer contract (one answer, or a battery's object), made once per contract."""
    return _tool(request_model(request))


def tool_body(request: AnswerRequest, model: str) -> dict:
    """The chat completion request of one sample-mode request."""
    tool = answer_tool(request)
    return {"model": model, "messages": [m.model_dump() for m in request.messages],
            "temperature": request.temperature, "seed": request.seed, "max_tokens": request.max_tokens,
            "tools": [tool], "tool_choice": {"type": "function", "function": {"name": tool["function"]["name"]}}}


def logprob_body(request: AnswerRequest, model: str, top_logprobs: int) -> dict:
    """The chat completion request of one distribution-mode cell: one token and its top log-probabilities."""
    return {"model": model, "messages": [m.model_dump() for m in request.messages],
            "temperature": request.temperature, "seed": request.seed, "max_tokens": 1, "logprobs": True,
            "top_logprobs": top_logprobs}


def reply_text(request: AnswerRequest, reply: ChatReply) -> tuple[str, str | None]:
    """What the model answered and, when it called tools but none of them is the answer tool, why that is no
    answer: a tool call is read only when it names the answer tool (a server or model that calls another
    function has not answered, whatever its arguments hold)."""
    calls = reply.message.tool_calls or []
    if not calls:
        return reply.text(), None
    expected = answer_tool(request)["function"]["name"]
    for call in calls:
        if call.function.name == expected:
            return call.function.arguments or "", None
    named = ", ".join(repr(c.function.name) for c in calls)
    return calls[0].function.arguments or "", f"the model called {named}, not the answer tool {expected!r}"


def read_reply(request: AnswerRequest, reply: ChatReply) -> tuple[str, int | None, str | None, str]:
    """``(status, value, reason, raw)`` of one reply, validated by the answer's model; for a battery, the
    first field that did not validate (or the first field's). A call of another tool than the answer tool is
    ``invalid``."""
    raw, wrong_tool = reply_text(request, reply)
    if wrong_tool:
        return "invalid", None, wrong_tool, raw
    parsed = parse_output(raw, request)
    _, status, value, reason = next((p for p in parsed if p[1] != "answered"), parsed[0])
    return status, value, reason, raw


def reask_messages(reply: ChatReply, error: str) -> list[dict]:
    """The turns that ask again after an invalid reply: the reply itself, then the error as the tool's
    result (or as a user turn when the model called no tool)."""
    message = reply.message
    # content "" rather than null: llama.cpp's server rejects an assistant turn whose content is null (HTTP 500)
    turn: dict = {"role": "assistant", "content": message.content or ""}
    calls = message.tool_calls or []
    if not calls:
        return [turn, {"role": "user", "content": REASK.format(error=error)}]
    turn["tool_calls"] = [{"id": call.id, "type": call.type or "function",
                           "function": {"name": call.function.name, "arguments": call.function.arguments or ""}}
                          for call in calls]
    return [turn, *({"role": "tool", "tool_call_id": call.id, "name": call.function.name,
                     "content": REASK.format(error=error)} for call in calls)]


__all__ = ["answer_tool", "logprob_body", "read_reply", "reask_messages", "tool_body"]
