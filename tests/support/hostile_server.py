"""A hostile OpenAI-compatible server on 127.0.0.1: each chat completion is answered with one of
:data:`KINDS` — bodies of the wrong shape, impossible log-probabilities, oversize text, not JSON —
chosen by the request's seed, so every attempt of a cell meets the same hostility (a run with it is
deterministic). ``served`` counts the replies of each kind."""

from __future__ import annotations

import json
import math
import random
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from silicon_sample.throughput.loopback import completion


def _top(values: list[float]) -> dict:
    top = [{"token": str(i + 1), "logprob": v, "bytes": None} for i, v in enumerate(values)]
    return {"content": [{"token": "1", "logprob": values[0], "bytes": None, "top_logprobs": top}]}


def _with_logprobs(request: dict, values: list[float]) -> dict:
    body = completion(request)
    body["choices"][0]["logprobs"] = _top(values)
    return body


KINDS = {
    "valid": lambda r: completion(r),
    "no choices": lambda r: {"id": "x", "object": "chat.completion", "model": "hostile"},
    "empty choices": lambda r: {"id": "x", "model": "hostile", "choices": []},
    "choices not a list": lambda r: {"choices": "lots"},
    "choice null": lambda r: {"choices": [None]},
    "message null": lambda r: {"choices": [{"message": None}]},
    "arguments not text": lambda r: {"choices": [{"message": {"tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "StructuredAnswer", "arguments": {"answer": 3}}}]}}]},
    "underflow": lambda r: _with_logprobs(r, [-1e5] * 6),
    "nan": lambda r: _with_logprobs(r, [math.nan, -0.1, -3.0]),
    "sum above one": lambda r: _with_logprobs(r, [-0.1, -0.2, -0.3]),
    "positive log-probability": lambda r: _with_logprobs(r, [0.5, -1.0]),
    "oversize": lambda r: {"model": "hostile", "choices": [{"message": {"content": "x" * 1_000_000}}]},
    "not json": None,
    "terminal escapes": lambda r: {"model": "hostile", "choices": [{"message": {"content": ESCAPES}}]},
    "formula": lambda r: {"model": "hostile", "choices": [{"message": {"content": FORMULA}}]},
    "wrong tool": lambda r: {"model": "hostile", "choices": [{"message": {"tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "run_shell", "arguments": json.dumps({"answer": 3})}}]}}]},
}
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://127.0.0.1/x\x1b\\click\x1b]8;;\x1b\\ \u202egnp.exe"
"""Clear the screen, set the window title, a hyperlink, a right-to-left override."""
FORMULA = "=cmd|' /C calc'!A0"
"""The classic CSV-injection payload (OWASP)."""


def echo(request: dict, authorization: str) -> dict:
    """A completion that repeats the client's API key everywhere a server's text goes: the model name, the
    text, the tool call, the log-probability tokens."""
    key = authorization.removeprefix("Bearer ")
    body = completion(request)
    body["model"] = f"model-{key}"
    message = body["choices"][0]["message"]
    if message.get("tool_calls"):
        message["tool_calls"][0]["function"]["arguments"] = json.dumps({"answer": f"my key is {key}"})
    else:
        message["content"] = f"my key is {key}"
    if body["choices"][0].get("logprobs"):
        body["choices"][0]["logprobs"]["content"][0]["top_logprobs"][-1]["token"] = key
    return body


class HostileServer:
    def __init__(self, kinds: list[str] | None = None, echo_key: bool = False, status: int = 200):
        """``status`` other than 200: every call is answered with that HTTP status and an error body (401:
        the key refused)."""
        self.kinds = kinds or list(KINDS)
        self.served: Counter = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                kind = "echo" if echo_key else self._kind(request)
                if status != 200:
                    kind = f"HTTP {status}"
                server.served[kind] += 1
                if status != 200:
                    data, kind_of = json.dumps({"error": {"message": "Incorrect API key provided",
                                                          "type": "invalid_request_error"}}).encode(), \
                        "application/json"
                    self.send_response(status)
                    self.send_header("Content-Type", kind_of)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if echo_key:
                    data, kind_of = json.dumps(echo(request, self.headers.get("Authorization", ""))).encode(), \
                        "application/json"
                elif KINDS[kind] is None:
                    data, kind_of = b"<html>502 Bad Gateway</html>", "text/html"
                else:
                    data, kind_of = json.dumps(KINDS[kind](request)).encode(), "application/json"  # NaN as NaN
                self.send_response(200)
                self.send_header("Content-Type", kind_of)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _kind(self, request: dict) -> str:
                return server.kinds[random.Random(request.get("seed")).randrange(len(server.kinds))]

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
