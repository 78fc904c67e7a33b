"""Shared fixtures. Tests run on the real embedded model unless they say otherwise.

The tests mirror the package: ``tests/<subpackage>/test_<module>.py`` holds the tests of
``silicon_sample/<subpackage>/<module>.py``. Helpers live in ``tests/support``. Tests marked ``slow``
run whole studies on the embedded model; ``make test-fast`` leaves them out.
"""

from __future__ import annotations

import os

import pytest


def _share_the_cpus_among_workers() -> None:
    """Under pytest-xdist (``make test`` runs one worker per CPU), each worker keeps to CPUs of its own, and so do
    the processes it starts (servers, the CLI, Dask workers): llama.cpp's threads spin-wait for each other, so
    two workers' threads sharing a core stall each other (NOTES: 14.8 → 4.5 items/s). The embedded backend
    then chooses its threads from the CPUs it may use (:func:`~silicon_sample.backends.embedded.choose_threads`),
    which never changes an answer; BLAS keeps to the same share."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not worker or count < 2 or len(cpus) < count:
        return
    share = cpus[int(worker.removeprefix("gw")) % count::count]
    os.sched_setaffinity(0, share)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(len(share)))


_share_the_cpus_among_workers()


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
