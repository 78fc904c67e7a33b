"""A loopback OpenAI-compatible server that answers every chat completion after a fixed delay.

What the bench measures hosted throughput against (no model, no network): ``POST
/v1/chat/completions`` sleeps ``delay`` seconds, then answers as a hosted model would — a tool call
with a valid ``answer`` when the request offers a tool (instructor's ``tools`` mode, sample mode),
one token with ``top_logprobs`` when it asks for log-probabilities (distribution mode), plain JSON
text otherwise. The answer is drawn from the request's seed, so reruns give the same answers.
``GET /v1/models`` lists the one model. The server counts requests and the most it held at once
(``max_concurrent``), which the bench reports beside the client's own count.

Why not a library: the bench must run anywhere the package is installed; this is asyncio and the
standard library (HTTP/1.1 with keep-alive, Content-Length bodies), nothing more.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from ..child_processes import tied_to_parent
from ..errors import BackendError

MODEL = "loopback"


class LoopbackServer:
    """Serve on 127.0.0.1 from a thread of its own; ``with LoopbackServer(0.2) as server: server.url``.

    ``faults`` (for load tests) makes a share of the completions fail, drawn from a generator seeded with
    ``fault_seed``: ``error`` (HTTP 500), ``rate_limit`` (HTTP 429 with ``Retry-After: 0``) and ``timeout``
    (the answer held ``hold`` seconds, past the client's time-out); ``faults_served`` counts them."""

    def __init__(self, delay: float = 0.2, host: str = "127.0.0.1", port: int = 0, faults: dict | None = None,
                 fault_seed: int = 0, record: bool = False):
        self.delay, self.host, self.port = delay, host, port
        self.recorded: list[dict] | None = [] if record else None    # with ``record``: each completion request
        self.faults = {"error": 0.0, "rate_limit": 0.0, "timeout": 0.0, "hold": 5.0, **(faults or {})}
        self._fault_rng = random.Random(fault_seed)
        self.faults_served = {"error": 0, "rate_limit": 0, "timeout": 0}
        self.requests = 0
        self.responses_sent = 0          # completions written back to a client
        self.concurrent = 0
        self.max_concurrent = 0
        self.first_request_at = self.last_request_at = None   # time.monotonic() of the first and last request
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def reset_counts(self) -> None:
        self.requests = self.responses_sent = self.max_concurrent = 0
        self.first_request_at = self.last_request_at = None

    def __enter__(self) -> LoopbackServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._connection, self.host, self.port, backlog=4096))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="loopback-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise BackendError("the loopback server did not start within 10 s", where="bench",
                               fix="check that 127.0.0.1 accepts connections")
        return self

    def __exit__(self, *exc) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # -- HTTP ---------------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip()
                           for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                status, payload = await self._route(method, path, body)
                data = json.dumps(payload).encode()
                extra = "Retry-After: 0\r\n" if status.startswith("429") else ""
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                             f"{extra}Connection: keep-alive\r\n\r\n".encode() + data)
                await writer.drain()
                if status == "200 OK" and path.rstrip("/").endswith("/chat/completions"):
                    self.responses_sent += 1
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._connections.discard(task)

    def stats(self) -> dict:
        return {"requests": self.requests, "responses_sent": self.responses_sent,
                "max_concurrent": self.max_concurrent, "faults_served": dict(self.faults_served)}

    def _fault(self) -> str | None:
        draw, edge = self._fault_rng.random(), 0.0
        for kind in ("error", "rate_limit", "timeout"):
            edge += self.faults[kind]
            if draw < edge:
                self.faults_served[kind] += 1
                return kind
        return None

    async def _route(self, method: str, path: str, body: bytes) -> tuple[str, dict]:
        if path.rstrip("/").endswith("/stats"):
            if method == "POST":
                self.reset_counts()
            return "200 OK", self.stats()
        if method == "GET" and path.rstrip("/").endswith("/models"):
            return "200 OK", {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "loopback"}]}
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            return "404 Not Found", {"error": {"message": f"no route {method} {path}"}}
        request = json.loads(body or b"{}")
        if self.recorded is not None:
            self.recorded.append(request)
        self.requests += 1
        self.last_request_at = time.monotonic()
        self.first_request_at = self.first_request_at or self.last_request_at
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        fault = self._fault()
        try:
            await asyncio.sleep(self.faults["hold"] if fault == "timeout" else self.delay)
        finally:
            self.concurrent -= 1
        if fault == "error":
            return "500 Internal Server Error", {"error": {"message": "loopback fault", "type": "server_error"}}
        if fault == "rate_limit":
            return "429 Too Many Requests", {"error": {"message": "loopback rate limit", "type": "rate_limit"}}
        return "200 OK", completion(request)


def completion(request: dict) -> dict:
    """The chat completion a model might give (see the module docstring)."""
    rng = random.Random(request.get("seed"))
    message: dict = {"role": "assistant", "content": None}
    logprobs = None
    finish = "stop"
    tools = request.get("tools") or []
    if tools:
        function = tools[0]["function"]
        properties = function.get("parameters", {}).get("properties", {})
        arguments = {"answer": example(properties.get("answer", {}), rng)}
        if "reason" in properties:
            arguments["reason"] = "loopback answer"
        message["tool_calls"] = [{"id": f"call_{rng.getrandbits(32):08x}", "type": "function",
                                  "function": {"name": function["name"], "arguments": json.dumps(arguments)}}]
        finish = "tool_calls"
    elif request.get("logprobs"):
        k = max(1, min(int(request.get("top_logprobs") or 5), 20))
        weights = [rng.random() + 0.05 for _ in range(k)]
        total = sum(weights)
        top = [{"token": str(i + 1), "logprob": math.log(w / total), "bytes": None} for i, w in enumerate(weights)]
        top.sort(key=lambda t: -t["logprob"])
        message["content"] = top[0]["token"]
        logprobs = {"content": [{"token": top[0]["token"], "logprob": top[0]["logprob"], "bytes": None,
                                 "top_logprobs": top}]}
        finish = "length"
    else:
        message["content"] = json.dumps({"answer": 1})
    return {"id": f"chatcmpl-{rng.getrandbits(48):012x}", "object": "chat.completion", "created": int(time.time()),
            "model": MODEL, "choices": [{"index": 0, "message": message, "logprobs": logprobs,
                                         "finish_reason": finish}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101}}


def example(schema: dict, rng: random.Random):
    """A value that satisfies an answer's JSON Schema, drawn with ``rng``: one of an ``enum``, an integer or
    number in its range, a short string, or a list of distinct ``enum`` items of an allowed length (the
    answers of every item type); 1 for a schema it does not know."""
    if "anyOf" in schema and not all("enum" in b or "const" in b for b in schema["anyOf"]):
        return example(schema["anyOf"][0], rng)          # a number's range before its special codes
    values = _options(schema)
    if values:
        return rng.choice(values)
    kind = schema.get("type")
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 100)
        return rng.randint(int(low), int(high)) if kind == "integer" else round(rng.uniform(low, high), 2)
    if kind == "string":
        return "loopback answer"[: schema.get("maxLength", 15)]
    if kind == "array":
        items = _options(schema.get("items", {})) or [1]
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", len(items)), len(items))
        return rng.sample(items, rng.randint(min(low, high), high))
    return 1


def _options(schema: dict) -> list:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [v for s in schema[key] for v in _options(s)]
    return []


class LoopbackProcess:
    """The same server in a process of its own (as a real server is: it does not share this process's
    interpreter lock with the client being measured). Counts come from ``GET /v1/stats``."""

    def __init__(self, delay: float = 0.2, faults: dict | None = None):
        self.delay, self.faults = delay, faults or {}
        self.url = ""
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> LoopbackProcess:
        self._process = subprocess.Popen([sys.executable, "-m", "silicon_sample.throughput.loopback", str(self.delay),
                                          json.dumps(self.faults)], stdout=subprocess.PIPE, text=True,
                                         **tied_to_parent())
        line = self._process.stdout.readline().strip()          # "http://127.0.0.1:PORT/v1" once listening
        if not line.startswith("http://127.0.0.1:"):
            self._process.kill()
            raise BackendError(f"the loopback server did not start (it said {line!r})", where="bench",
                               fix="run with --debug to see its output")
        self.url = line
        return self

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _stats(self, method: str = "GET") -> dict:
        request = urllib.request.Request(self.url + "/stats", method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def reset_counts(self) -> None:
        self._stats("POST")

    @property
    def max_concurrent(self) -> int:
        return self._stats()["max_concurrent"]

    @property
    def requests(self) -> int:
        return self._stats()["requests"]

    def stats(self) -> dict:
        return self._stats()


def _serve_forever(delay: float, faults: dict) -> None:
    with LoopbackServer(delay, faults=faults) as server:
        print(server.url, flush=True)
        try:
            signal.sigwait({signal.SIGTERM, signal.SIGINT})
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    _serve_forever(float(sys.argv[1]) if len(sys.argv) > 1 else 0.2,
                   json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
