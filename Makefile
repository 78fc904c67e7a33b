# The two set-up commands for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
export VENV
DEMO_OUT ?= runs/pilot_bfi-$(shell date +%Y%m%d-%H%M%S)

.PHONY: install demo test test-fast lint bench clean

install:
	@sh tools/ensure_venv.sh

# The pilot on the embedded model, then its report against the humans it was drawn from, ending in a verdict.
demo: install
	$(VENV)/bin/silicon-sample run studies/pilot_bfi.yaml --out $(DEMO_OUT)
	$(VENV)/bin/silicon-sample report $(DEMO_OUT) --baseline psych_bfi -o $(DEMO_OUT).html

# One pytest-xdist worker per CPU, each keeping to its own CPU (tests/conftest.py); a test file stays on one worker
# so that its module fixtures (a model, a server, a run) are built once, and each of the README's command chains
# is a unit of its own; the longest start first (tests/conftest.py: RUN_FIRST, SPREAD). TEST_WORKERS=0 runs in
# one process.
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
PYTEST = $(VENV)/bin/python -m pytest -q -ra -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint
	@sh tools/ensure_test_tools.sh
	$(PYTEST) --durations=25

# Everything but the tests marked `slow` (whole studies on the embedded model): a few minutes.
test-fast: lint
	@sh tools/ensure_test_tools.sh
	$(PYTEST) -m "not slow" --durations=15

# Style and import rules (pyproject.toml: [tool.ruff], [tool.importlinter]; ARCHITECTURE.md says them in words).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

bench: install
	$(VENV)/bin/silicon-sample bench --memory-calls 100000 --load-calls 20000 --design --dask --million --analysis
	$(VENV)/bin/python benchmarks/bench_invariance.py
	$(VENV)/bin/python benchmarks/bench_compare.py
	$(VENV)/bin/python benchmarks/bench_pilot.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
