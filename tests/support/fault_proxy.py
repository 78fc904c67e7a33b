"""A fault-injecting HTTP proxy on 127.0.0.1, in front of a real model server.

Each incoming request takes the next fault from a script (then passes through
once the script is used up): ``ok`` (forward), ``500``, ``429:<seconds>``
(with Retry-After), ``delay:<seconds>`` (forward after sleeping, beyond the
client's timeout), ``malformed`` (200 with a body that is not JSON), ``refuse``
(a well-formed chat completion whose text is a refusal), ``invalid`` (a tool call whose answer is off
the scale: ``{"answer": 99}``), ``drop`` (close the
connection without answering). Every request is logged with its time and fault.

``report_model`` (settable at any time) rewrites the ``model`` field of the chat completions passed
through: the same model name asked, another version reported, as an OpenAI-compatible server does when
an alias moves to a new snapshot.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REFUSAL = "I'm sorry, but as an AI I cannot share personal opinions or rate myself."


class FaultProxy:
    def __init__(self, upstream: str, script: list[str]):
        self.upstream = upstream.rstrip("/")
        self.script = list(script)
        self.report_model: str | None = None
        self.log: list[dict] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._handle(b"")

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                self._handle(self.rfile.read(length))

            def _handle(self, body: bytes):
                with proxy.lock:
                    fault = proxy.script.pop(0) if proxy.script else "ok"
                    proxy.log.append({"time": time.monotonic(), "path": self.path, "fault": fault,
                                      "body": body.decode("utf-8", "replace")})
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "500":
                    return self._reply(500, b'{"error": {"message": "injected server error"}}')
                if fault.startswith("429"):
                    return self._reply(429, b'{"error": {"message": "injected rate limit"}}',
                                       {"Retry-After": fault.split(":")[1]})
                if fault == "malformed":
                    return self._reply(200, b'{"id": "x", "choices": [ {"message": ')
                if fault == "refuse" and self.path.startswith("/api/chat"):   # Ollama's protocol
                    request = json.loads(body or b"{}")
                    reply = {"model": request.get("model", "m"), "created_at": "2026-01-01T00:00:00Z",
                             "message": {"role": "assistant", "content": REFUSAL}, "done": True,
                             "done_reason": "stop", "prompt_eval_count": 10, "eval_count": 14}
                    return self._reply(200, json.dumps(reply).encode())
                if fault == "refuse":
                    request = json.loads(body or b"{}")
                    completion = {"id": "refusal", "object": "chat.completion", "created": int(time.time()),
                                  "model": request.get("model", "m"),
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": REFUSAL}}],
                                  "usage": {"prompt_tokens": 10, "completion_tokens": 14, "total_tokens": 24}}
                    return self._reply(200, json.dumps(completion).encode())
                if fault == "invalid":
                    request = json.loads(body or b"{}")
                    name = request["tools"][0]["function"]["name"]
                    call = {"id": "call_invalid", "type": "function",
                            "function": {"name": name, "arguments": json.dumps({"answer": 99})}}
                    completion = {"id": "invalid", "object": "chat.completion", "created": int(time.time()),
                                  "model": request.get("model", "m"),
                                  "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                                      "role": "assistant", "content": None, "tool_calls": [call]}}],
                                  "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
                    return self._reply(200, json.dumps(completion).encode())
                if fault.startswith("delay"):
                    time.sleep(float(fault.split(":")[1]))
                self._forward(body)

            def _forward(self, body: bytes):
                request = urllib.request.Request(proxy.upstream + self.path, data=body or None,
                                                 method=self.command,
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=120) as response:
                        payload = response.read()
                        if proxy.report_model and self.path.endswith("/chat/completions"):
                            completion = json.loads(payload)
                            completion["model"] = proxy.report_model
                            payload = json.dumps(completion).encode()
                        self._reply(response.status, payload)
                except urllib.error.HTTPError as error:
                    self._reply(error.code, error.read())
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _reply(self, status: int, payload: bytes, headers: dict | None = None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def completions(self) -> list[dict]:
        return [entry for entry in self.log if entry["path"].endswith("/chat/completions")]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
