#!/usr/bin/env bash
# The main job: installs the tutor, builds its knowledge base on first use, and answers a
# sample question with citations. Pass your own question as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 KERAS_BACKEND=torch
if [ $# -gt 0 ]; then q="$*"; else q="What does backpropagation do, and how does dropout fight overfitting?"; fi
exec tutor ask "$q"
