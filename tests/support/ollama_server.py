"""A small server speaking Ollama's documented /api protocol over the embedded GGUF model.

No Ollama server can be installed from the package registries, so the tests
run this one: ``/api/chat`` (non-streaming and single-chunk streaming;
``format`` as "json" or a JSON Schema, applied as a grammar; ``options``
temperature, seed, num_ctx, num_predict; ``logprobs`` and ``top_logprobs``),
``/api/tags`` and ``/api/show``, following docs/api.md of the Ollama project.
Run: python tests/support/ollama_server.py PORT MODEL_ALIAS GGUF_PATH [REVISION]

REVISION (default none) is mixed into the reported digest: the same model name and weights under
another version, as an Ollama server reports after an updated tag is pulled.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response


def make_app(alias: str, gguf: Path, revision: str = "") -> FastAPI:
    import llama_cpp

    threads = len(os.sched_getaffinity(0))      # the CPUs the test process may use (tests/conftest.py)
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, logits_all=True, verbose=False)
    digest = hashlib.sha256(gguf.read_bytes() + revision.encode()).hexdigest()
    lock = threading.Lock()
    app = FastAPI()
    details = {"format": "gguf", "family": "llama", "families": ["llama"], "parameter_size": "135M",
               "quantization_level": "Q4_1"}
    now = lambda: datetime.now(UTC).isoformat()

    def check_model(name: str) -> None:
        if name.split(":")[0] != alias:
            raise HTTPException(404, detail=f"model '{name}' not found")

    @app.get("/api/tags")
    def tags():
        return {"models": [{"name": f"{alias}:latest", "model": f"{alias}:latest", "modified_at": now(),
                            "size": gguf.stat().st_size, "digest": digest, "details": details}]}

    @app.post("/api/show")
    async def show(request: Request):
        body = await request.json()
        check_model(body.get("model") or body.get("name", ""))
        return {"modelfile": f"FROM {gguf.name}", "parameters": "", "template": llm.metadata.get(
            "tokenizer.chat_template", ""), "details": details, "model_info": {"general.architecture": "llama"},
            "capabilities": ["completion"], "modified_at": now()}

    @app.post("/api/chat")
    async def chat(request: Request):
        body = await request.json()
        check_model(body.get("model", ""))
        options = body.get("options") or {}
        kwargs = {"messages": body["messages"], "temperature": options.get("temperature", 0.8),
                  "seed": options.get("seed"), "max_tokens": options.get("num_predict", 128)}
        fmt = body.get("format")
        if isinstance(fmt, dict):
            kwargs["response_format"] = {"type": "json_object", "schema": fmt}
        elif fmt == "json":
            kwargs["response_format"] = {"type": "json_object"}
        if body.get("logprobs"):
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = int(body.get("top_logprobs") or 0)
        with lock:
            result = llm.create_chat_completion(**kwargs)
        choice = result["choices"][0]
        reply = {"model": body["model"], "created_at": now(),
                 "message": {"role": "assistant", "content": choice["message"]["content"] or ""},
                 "done": True, "done_reason": "stop" if choice["finish_reason"] == "stop" else "length",
                 "prompt_eval_count": result["usage"]["prompt_tokens"],
                 "eval_count": result["usage"]["completion_tokens"]}
        if body.get("logprobs") and choice.get("logprobs"):
            reply["logprobs"] = [{"token": t["token"], "logprob": float(t["logprob"]),
                                  "top_logprobs": [{"token": x["token"], "logprob": float(x["logprob"])}
                                                   for x in t.get("top_logprobs") or []]}
                                 for t in choice["logprobs"]["content"]]
        if body.get("stream", True):
            return Response(json.dumps(reply) + "\n", media_type="application/x-ndjson")
        return JSONResponse(reply)

    return app


if __name__ == "__main__":
    port, alias, gguf = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    revision = sys.argv[4] if len(sys.argv) > 4 else ""
    uvicorn.run(make_app(alias, gguf, revision), host="127.0.0.1", port=port, log_level="info")
