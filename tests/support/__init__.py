"""Helpers of the test suite: study files, the CLI, real servers on 127.0.0.1, a fault proxy, a scripted backend."""
