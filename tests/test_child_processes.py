"""Test servers end with the process that started them, even when it is killed without teardown.

A parent process starts real servers (the Batch protocol server of tests/support, llama-cpp-python's
server over the embedded GGUF, the bench's loopback server), prints their pids, then is stopped by
SIGTERM (pytest interrupted) or SIGKILL; no fixture teardown runs. The servers must be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from support.servers import BatchServer, LlamaCppServer
    from silicon_sample.throughput.loopback import LoopbackProcess
    folder = Path({folder!r})
    servers = [BatchServer(folder / "batch.log")]
    if {with_llama!r}:
        servers.append(LlamaCppServer(folder / "llama.log"))
    loopback = LoopbackProcess(delay=0.0).__enter__()
    pids = [s.process.pid for s in servers] + [loopback._process.pid]
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:      # a zombie (exited, not yet reaped by init) counts as ended
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.parametrize(("stop", "with_llama"), [(signal.SIGTERM, True), (signal.SIGKILL, False)])
def test_servers_end_when_their_parent_is_stopped(tmp_path, stop, with_llama):
    tests = str(Path(__file__).parent)
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(tests=tests, folder=str(tmp_path),
                                                                  with_llama=with_llama)],
                              stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == (3 if with_llama else 2)
        assert all(_alive(pid) for pid in pids)
        parent.send_signal(stop)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in pids if _alive(pid)]
        assert not left, f"servers outlived their parent: {left}"
    finally:
        parent.kill()
        for pid in pids if "pids" in locals() else []:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_the_suite_answers_from_a_cache_of_its_own_never_the_users():
    """tests/conftest.py gives every process of the suite an empty cache of its own (and the CLI it starts
    inherits it): a suite on a developer's machine does the work it does on a fresh one."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from silicon_sample.backends.response_cache import default_path

    ours = default_path()
    assert "silicon-sample-test-cache-" in str(ours) and Path.home() / ".cache" not in ours.parents
    child = subprocess.run([sys.executable, "-c", "from silicon_sample.backends.response_cache import default_path;"
                            "print(default_path())"], capture_output=True, text=True, check=True, env=os.environ)
    assert Path(child.stdout.strip()) == ours
