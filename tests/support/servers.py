"""Real servers on 127.0.0.1 for backend tests, started and stopped by the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from silicon_sample.child_processes import tied_to_parent


def usable_cpus() -> int:
    """The CPUs this process may use (one share of the machine under pytest-xdist, see tests/conftest.py)."""
    return len(os.sched_getaffinity(0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class ServerProcess:
    """A server subprocess on a free port of 127.0.0.1, its output in ``log``; stopped by :meth:`stop`."""

    def __init__(self, log: Path, command: list[str], ready_path: str, alias: str, port: int | None = None):
        self.port = port or free_port()
        self.alias = alias
        self.log = log
        self._log_handle = open(log, "w")
        self.process = subprocess.Popen([c.replace("{port}", str(self.port)) for c in command],
                                        stdout=self._log_handle, stderr=subprocess.STDOUT,
                                        **tied_to_parent())
        wait_for(f"http://127.0.0.1:{self.port}{ready_path}", self.process)

    def requests_served(self, route: str) -> int:
        return self.log.read_text().count(f"POST {route}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_handle.close()


def _gguf() -> str:
    from silicon_sample.backends.embedded import model_path

    return str(model_path())


class LlamaCppServer(ServerProcess):
    """``python -m llama_cpp.server`` serving the embedded GGUF (OpenAI-compatible)."""

    def __init__(self, log: Path, alias: str = "smollm2"):
        super().__init__(log, [sys.executable, "-m", "llama_cpp.server", "--model", _gguf(), "--host", "127.0.0.1",
                               "--port", "{port}", "--n_ctx", "2048", "--logits_all", "true", "--model_alias", alias,
                               "--n_threads", str(usable_cpus())], "/v1/models", alias)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def completions_served(self) -> int:
        """Chat completion requests the server has answered (from its access log)."""
        return self.requests_served("/v1/chat/completions")


class OllamaProtocolServer(ServerProcess):
    """tests/support/ollama_server.py: Ollama's /api endpoints over the embedded GGUF.

    A ``revision`` changes the digest the server reports for the same weights: the same model name,
    another version (as after ``ollama pull`` of an updated tag). ``port`` reuses a port (the same host).
    """

    def __init__(self, log: Path, alias: str = "smollm2", revision: str = "", port: int | None = None):
        script = str(Path(__file__).with_name("ollama_server.py"))
        super().__init__(log, [sys.executable, script, "{port}", alias, _gguf(), revision], "/api/tags", alias,
                         port=port)

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def chats_served(self) -> int:
        return self.requests_served("/api/chat")


class BatchServer(ServerProcess):
    """tests/support/batch_server.py: OpenAI's Batch API (/v1/files, /v1/batches) on 127.0.0.1; each line is
    answered by the loopback completion, or by ``upstream`` (a chat-completions base URL) when given."""

    def __init__(self, log: Path, upstream: str | None = None):
        script = str(Path(__file__).with_name("batch_server.py"))
        super().__init__(log, [sys.executable, script, "{port}", *(["--upstream", upstream] if upstream else [])],
                         "/control", "loopback")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def control(self, **settings) -> dict:
        """Steer the server (see its module docstring); with no settings, read its counts."""
        import json

        url = f"http://127.0.0.1:{self.port}/control"
        data = json.dumps(settings).encode() if settings else None
        request = urllib.request.Request(url, data=data, method="POST" if settings else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
