"""Shared fixtures. Tests run on the real embedded model unless they say otherwise.

The tests mirror the package: ``tests/<subpackage>/test_<module>.py`` holds the tests of
``silicon_sample/<subpackage>/<module>.py``. Helpers live in ``tests/support``. Tests marked ``slow``
run whole studies on the embedded model; ``make test-fast`` leaves them out.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

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

TEST_CACHE_PREFIX = "silicon-sample-test-cache-"


def _a_response_cache_of_the_suite_s_own() -> None:
    """Every process of the suite (each xdist worker, and the CLI and servers it starts) answers from a response
    cache of its own, made empty at the start and removed at the end: the tests never read or fill the user's
    ``~/.cache``, so a suite on a fresh machine does the same work as on a developer's. Within a worker,
    identical calls of different tests are served from it, as they would be for a user. A cache the developer
    names in ``SILICON_SAMPLE_CACHE`` is kept; tests that must not share answers take ``private_cache``."""
    configured = os.environ.get("SILICON_SAMPLE_CACHE", "")
    if configured and TEST_CACHE_PREFIX not in configured:
        return
    folder = tempfile.mkdtemp(prefix=TEST_CACHE_PREFIX)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["SILICON_SAMPLE_CACHE"] = os.path.join(folder, "responses.sqlite")


_a_response_cache_of_the_suite_s_own()


# The files that take longest (by the durations `make test` prints; 40 s or more), longest first. Under
# `--dist loadfile` each file goes whole to one worker, in the order of the collection (`--no-loadscope-reorder`:
# xdist would otherwise start the files with the most tests first and leave a long one to the end, beside an idle
# worker); the README's command chains (one unit each, :data:`SPREAD`) come where test_readme.py is listed.
RUN_FIRST = ("tests/comparison/test_compare_runs.py", "tests/runner/test_runs.py", "tests/test_hostile_files.py",
             "tests/backends/test_embedded.py", "tests/runner/test_repair.py", "tests/comparison/test_ranking.py",
             "tests/test_bad_inputs.py", "tests/throughput/test_measure.py", "tests/comparison/test_replicas.py",
             "tests/test_readme.py", "tests/comparison/test_missing_answers.py", "tests/runner/test_dask_executor.py",
             "tests/comparison/test_calibrate_runs.py", "tests/runner/test_item_type_runs.py",
             "tests/comparison/test_ordinal_model.py", "tests/runner/test_presentation_runs.py",
             "tests/backends/test_openai_compatible.py", "tests/comparison/test_presentation_effects.py",
             "tests/backends/test_openai_batch.py", "tests/comparison/test_persona_effects_runs.py",
             "tests/runner/test_streaming.py", "tests/backends/test_response_cache.py",
             "tests/comparison/test_item_counts.py", "tests/report/test_html_report.py",
             "tests/tidy/test_completeness.py")


# Tests whose parameters each make a unit of work of their own under `--dist loadfile`, so that the workers share
# them out: the README's command chains (tests/test_readme.py: each builds its own workspace, no fixture shared).
SPREAD = ("tests/test_readme.py::test_every_readme_command_runs_in_order[",)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, but each test named in :data:`SPREAD` is a unit of its own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesAndSpreadTests(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(SPREAD) else super()._split_scope(nodeid)

    return FilesAndSpreadTests(config, log)


def pytest_collection_modifyitems(config, items):
    gone = [path for path in RUN_FIRST if not (config.rootpath / path).is_file()]
    if gone:
        raise pytest.UsageError(f"tests/conftest.py RUN_FIRST names {', '.join(gone)}, which no longer exist: "
                                "name the files that take minutes now")
    order = {path: i for i, path in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: order.get(item.nodeid.split("::")[0], len(RUN_FIRST)))   # stable: the rest keep theirs


@pytest.fixture(scope="session")
def embedded():
    from silicon_sample.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend()
    yield backend
    backend.close()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A response cache of the test's own, so that the test shares no cached answer with the others."""
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
