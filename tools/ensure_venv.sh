#!/bin/sh
# Create .venv with Python 3.12+ (or reuse it) and install the project with its test extras.
# Reinstalls only when pyproject.toml changed since the last install.
set -e
VENV=${VENV:-.venv}
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    echo "$VENV uses Python $("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])'), older than 3.12: recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    PY=$(sh tools/find_python.sh)
    echo "creating $VENV with $PY"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# llama-cpp-python compiles llama.cpp for this CPU (-march=native). On virtual machines whose Xeon reports AMX
# (amx_tile in /proc/cpuinfo) that build crashed in its first decode (SIGSEGV in ggml's AMX kernels, checked
# 2026-12-05); leaving AMX out gives a build that runs (AVX-512 stays). A CMAKE_ARGS of your own wins.
if [ -z "${CMAKE_ARGS:-}" ] && grep -q amx_tile /proc/cpuinfo 2>/dev/null; then
    NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    export CMAKE_ARGS="-DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'"
fi
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
    echo "installing silicon-sample into $VENV (the first install compiles llama-cpp-python from source: about 10 minutes)"
    "$VENV/bin/python" -m pip install --quiet --progress-bar off -e '.[test]'
    # pip reuses a llama-cpp-python wheel it built before, perhaps without the flags above: if the embedded
    # model cannot evaluate one token, that wheel goes and llama.cpp is compiled again (a few minutes).
    if ! sh tools/check_llama.sh "$VENV/bin/python"; then
        echo "llama.cpp crashed evaluating the embedded model: compiling llama-cpp-python again${CMAKE_ARGS:+ with CMAKE_ARGS=$CMAKE_ARGS}"
        "$VENV/bin/python" -m pip cache remove 'llama_cpp_python*' >/dev/null 2>&1 || true
        "$VENV/bin/python" -m pip install --quiet --progress-bar off --force-reinstall --no-deps --no-cache-dir \
            "llama-cpp-python==$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"
        if ! sh tools/check_llama.sh "$VENV/bin/python"; then
            echo "error: llama.cpp still crashes evaluating the embedded model in $VENV;" \
                 "set CMAKE_ARGS (e.g. -DGGML_NATIVE=OFF) and run make install again" >&2
            exit 1
        fi
    fi
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi
