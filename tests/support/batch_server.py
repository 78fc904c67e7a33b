"""A loopback server of OpenAI's Batch API: /v1/files and /v1/batches, run as a process of its own.

    python tests/support/batch_server.py PORT [--upstream URL]

Endpoints (as OpenAI documents them): ``POST /v1/files`` (multipart upload, ``purpose=batch``),
``GET /v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches``
(newest first), ``POST /v1/batches/{id}/cancel``. A worker thread runs each batch: ``validating`` →
``in_progress`` → ``finalizing`` → ``completed``, writing an output file (one line per answered request)
and an error file (failed lines). Each line is answered by :func:`silicon_sample.throughput.loopback.completion`
(seeded from the request), or, with ``--upstream``, by a real chat-completions server (llama.cpp's).

What the tests steer, by ``POST /control`` with JSON (``GET /control`` reads the counts back):
``hold`` (bool: batches wait in ``in_progress`` until released), ``expire_after`` (the next batch
expires after answering this many lines; the rest go to its error file as ``batch_expired``, as
OpenAI does), ``fail_lines`` (the next batch: this many lines fail with HTTP 500), ``bad_lines``
(... with HTTP 400), ``fail_calls`` (the next this many calls of /v1/..., any endpoint, answer HTTP 500;
``failed_calls`` counts them). ``lines_seen`` counts how often each ``custom_id`` was submitted, across batches.
Only 127.0.0.1; the server is the standard library's.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from silicon_sample.throughput.loopback import completion


class BatchService:
    def __init__(self, upstream: str | None = None):
        self.upstream = upstream
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.order: list[str] = []
        self.lines_seen: dict[str, int] = {}
        self.control = {"hold": False, "expire_after": None, "fail_lines": 0, "bad_lines": 0, "fail_calls": 0}
        self.failed_calls = 0
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        threading.Thread(target=self._work, daemon=True).start()

    # -- files ---------------------------------------------------------------------------------
    def add_file(self, data: bytes, purpose: str, filename: str) -> dict:
        with self.lock:
            file_id = f"file-{next(self.ids)}"
            self.files[file_id] = data
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "status": "processed"}

    # -- batches -------------------------------------------------------------------------------
    def create(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            if body.get("input_file_id") not in self.files:
                return 400, {"error": {"message": f"no file {body.get('input_file_id')}", "type": "invalid_request"}}
            batch_id = f"batch_{next(self.ids)}"
            lines = [json.loads(raw) for raw in self.files[body["input_file_id"]].splitlines() if raw.strip()]
            for line in lines:
                self.lines_seen[line["custom_id"]] = self.lines_seen.get(line["custom_id"], 0) + 1
            batch = {"id": batch_id, "object": "batch", "endpoint": body.get("endpoint"), "errors": None,
                     "input_file_id": body["input_file_id"], "completion_window": body.get("completion_window"),
                     "status": "validating", "output_file_id": None, "error_file_id": None,
                     "created_at": int(time.time()), "metadata": body.get("metadata"),
                     "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
            plan = {"expire_after": self.control["expire_after"], "fail_lines": self.control["fail_lines"],
                    "bad_lines": self.control["bad_lines"]}
            self.control.update(expire_after=None, fail_lines=0, bad_lines=0)   # "the next batch" only
            self.batches[batch_id] = {"object": batch, "lines": lines, "plan": plan}
            self.order.append(batch_id)
        self.wake.set()
        return 200, batch

    def _work(self) -> None:
        while True:
            self.wake.wait(0.05)
            self.wake.clear()
            with self.lock:
                todo = [b for b in self.batches.values() if b["object"]["status"] in ("validating", "in_progress")]
                for b in todo:
                    b["object"]["status"] = "in_progress"
                if self.control["hold"]:
                    continue
            for b in todo:
                self._run(b)

    def _run(self, batch: dict) -> None:
        plan, obj = batch["plan"], batch["object"]
        out, err = [], []
        for k, line in enumerate(batch["lines"]):
            record = {"id": f"batch_req_{k}", "custom_id": line["custom_id"]}
            if plan["expire_after"] is not None and k >= plan["expire_after"]:
                err.append({**record, "response": None,
                            "error": {"code": "batch_expired", "message": "This request could not be executed "
                                      "before the completion window expired."}})
            elif k < plan["fail_lines"]:
                err.append({**record, "response": {"status_code": 500, "request_id": f"req_{k}", "body": {
                    "error": {"message": "The server had an error", "type": "server_error"}}}, "error": None})
            elif k < plan["fail_lines"] + plan["bad_lines"]:
                err.append({**record, "response": {"status_code": 400, "request_id": f"req_{k}", "body": {
                    "error": {"message": "Invalid value for 'model'", "type": "invalid_request_error"}}},
                    "error": None})
            else:
                status, body = self._answer(line["body"])
                (out if status == 200 else err).append(
                    {**record, "response": {"status_code": status, "request_id": f"req_{k}", "body": body},
                     "error": None})
        with self.lock:
            if obj["status"] != "in_progress":          # cancelled meanwhile
                return
            obj["status"] = "finalizing"
            for name, rows in (("output_file_id", out), ("error_file_id", err)):
                if rows:
                    file_id = f"file-{next(self.ids)}"
                    self.files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                    obj[name] = file_id
            obj["request_counts"] = {"total": len(batch["lines"]), "completed": len(out), "failed": len(err)}
            if plan["expire_after"] is not None:
                obj["status"], obj["expired_at"] = "expired", int(time.time())
            else:
                obj["status"], obj["completed_at"] = "completed", int(time.time())

    def _answer(self, body: dict) -> tuple[int, dict]:
        if self.upstream is None:
            return 200, completion(body)
        url = self.upstream.rstrip("/") + "/chat/completions"
        request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {"error": {"message": exc.read().decode(errors="replace"), "type": "upstream"}}

    def stats(self) -> dict:
        with self.lock:
            return {"files": len(self.files), "failed_calls": self.failed_calls,
                    "lines_seen": dict(self.lines_seen), "control": dict(self.control),
                    "batches": [{"id": i, "status": self.batches[i]["object"]["status"],
                                 "custom_ids": [line["custom_id"] for line in self.batches[i]["lines"]]}
                                for i in self.order]}


class Handler(BaseHTTPRequestHandler):
    service: BatchService
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, payload, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _failed(self) -> bool:
        """Answer HTTP 500 while ``fail_calls`` lasts (the request's body read first)."""
        s = self.service
        with s.lock:
            if not self.path.startswith("/v1/") or s.control["fail_calls"] <= 0:
                return False
            s.control["fail_calls"] -= 1
            s.failed_calls += 1
        self._send(500, {"error": {"message": "scripted server error", "type": "server_error"}})
        return True

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        s = self.service
        if self._failed():
            return
        if path == "/control":
            return self._send(200, s.stats())
        if path.startswith("/v1/files/") and path.endswith("/content"):
            file_id = path.split("/")[3]
            with s.lock:
                data = s.files.get(file_id)
            return self._send(200, None, data) if data is not None else self._send(404, {"error": {
                "message": f"no file {file_id}"}})
        if path == "/v1/batches":
            with s.lock:
                data = [s.batches[i]["object"] for i in reversed(s.order)]
            return self._send(200, {"object": "list", "data": data, "has_more": False,
                                    "first_id": data[0]["id"] if data else None,
                                    "last_id": data[-1]["id"] if data else None})
        if path.startswith("/v1/batches/"):
            with s.lock:
                batch = s.batches.get(path.split("/")[3])
                obj = dict(batch["object"]) if batch else None
            return self._send(200, obj) if obj else self._send(404, {"error": {"message": "no such batch"}})
        self._send(404, {"error": {"message": f"no route GET {path}"}})

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        s = self.service
        body = self._body()
        if self._failed():
            return
        if path == "/control":
            with s.lock:
                s.control.update(json.loads(body or b"{}"))
            s.wake.set()
            return self._send(200, s.stats()["control"])
        if path == "/v1/files":
            message = email.parser.BytesParser().parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            fields, data, filename = {}, b"", "upload.jsonl"
            for part in message.get_payload():
                name = part.get_param("name", header="content-disposition")
                if name == "file":
                    data = part.get_payload(decode=True)
                    filename = part.get_filename() or filename
                else:
                    fields[name] = part.get_payload(decode=True).decode()
            return self._send(200, s.add_file(data, fields.get("purpose", ""), filename))
        if path == "/v1/batches":
            status, payload = s.create(json.loads(body))
            return self._send(status, payload)
        if path.startswith("/v1/batches/") and path.endswith("/cancel"):
            with s.lock:
                batch = s.batches.get(path.split("/")[3])
                if batch and batch["object"]["status"] in ("validating", "in_progress"):
                    batch["object"]["status"] = "cancelled"
                obj = dict(batch["object"]) if batch else None
            return self._send(200, obj) if obj else self._send(404, {"error": {"message": "no such batch"}})
        self._send(404, {"error": {"message": f"no route POST {path}"}})


def main(argv: list[str]) -> None:
    port = int(argv[0])
    upstream = argv[argv.index("--upstream") + 1] if "--upstream" in argv else None
    Handler.service = BatchService(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
