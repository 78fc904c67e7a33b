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

from ..answers import AnswerRequest, answer_model, parse_structured

REASK = "Validation Error found:\n{error}\nRecall the function correctly, fix the errors"
"""instructor's re-ask text (``reask_tools``)."""


@functools.lru_cache(maxsize=256)
def answer_tool(options: tuple[int, ...], with_reason: bool) -> dict:
    """The tool of an answer scale, made once per scale."""
    import instructor

    return {"type": "function", "function": instructor.openai_schema(answer_model(options, with_reason)).openai_schema}


def tool_body(request: AnswerRequest, model: str) -> dict:
    """The chat completion request of one sample-mode cell."""
    tool = answer_tool(tuple(request.options), request.with_reason)
    return {"model": model, "messages": [m.model_dump() for m in request.messages],
            "temperature": request.temperature, "seed": request.seed, "max_tokens": request.max_tokens,
            "tools": [tool], "tool_choice": {"type": "function", "function": {"name": tool["function"]["name"]}}}


def logprob_body(request: AnswerRequest, model: str, top_logprobs: int) -> dict:
    """The chat completion request of one distribution-mode cell: one token and its top log-probabilities."""
    return {"model": model, "messages": [m.model_dump() for m in request.messages],
            "temperature": request.temperature, "seed": request.seed, "max_tokens": 1, "logprobs": True,
            "top_logprobs": top_logprobs}


def reply_text(message: dict) -> str:
    """What the model said: the tool call's arguments, or its text when it called no tool."""
    calls = message.get("tool_calls") or []
    if calls:
        return calls[0].get("function", {}).get("arguments") or ""
    return message.get("content") or ""


def read_reply(request: AnswerRequest, message: dict) -> tuple[str, int | None, str | None, str]:
    """``(status, value, reason, raw)`` of one reply, validated by the answer's model."""
    raw = reply_text(message)
    status, value, reason = parse_structured(raw, tuple(request.options), request.with_reason)
    return status, value, reason, raw


def reask_messages(message: dict, error: str) -> list[dict]:
    """The turns that ask again after an invalid reply: the reply itself, then the error as the tool's
    result (or as a user turn when the model called no tool)."""
    # content "" rather than null: llama.cpp's server rejects an assistant turn whose content is null (HTTP 500)
    reply = {"role": "assistant", "content": message.get("content") or ""}
    calls = message.get("tool_calls") or []
    if calls:
        reply["tool_calls"] = calls
        return [reply, *({"role": "tool", "tool_call_id": call.get("id"), "name": call.get("function", {}).get("name"),
                          "content": REASK.format(error=error)} for call in calls)]
    return [reply, {"role": "user", "content": REASK.format(error=error)}]


def top_logprobs_of(choice: dict) -> list[tuple[str, float]] | None:
    """The first token's top log-probabilities of a reply, or ``None`` when the server gave none."""
    content = (choice.get("logprobs") or {}).get("content") or []
    if not content:
        return None
    return [(entry["token"], entry["logprob"]) for entry in content[0].get("top_logprobs") or []]


__all__ = ["REASK", "answer_tool", "logprob_body", "read_reply", "reask_messages", "reply_text", "tool_body",
           "top_logprobs_of"]
