"""Shared fixtures. Tests run on the real embedded model unless they say otherwise.

The tests mirror the package: ``tests/<subpackage>/test_<module>.py`` holds the tests of
``silicon_sample/<subpackage>/<module>.py``. Helpers live in ``tests/support``. Tests marked ``slow``
run whole studies on the embedded model; ``make test-fast`` leaves them out.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedded():
    from silicon_sample.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend()
    yield backend
    backend.close()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A response cache of the test's own, so tests never share cached answers (or touch ~/.cache)."""
    monkeypatch.setenv("SILICON_SAMPLE_CACHE", str(tmp_path / "cache.sqlite"))
    return tmp_path / "cache.sqlite"


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server with the embedded GGUF, on 127.0.0.1 for the session."""
    from support.servers import LlamaCppServer

    server = LlamaCppServer(tmp_path_factory.mktemp("llama_server") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ollama_server(tmp_path_factory):
    """tests/support/ollama_server.py (Ollama's /api protocol over the embedded GGUF), on 127.0.0.1."""
    from support.servers import OllamaProtocolServer

    server = OllamaProtocolServer(tmp_path_factory.mktemp("ollama_server") / "server.log")
    yield server
    server.stop()
