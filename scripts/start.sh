#!/usr/bin/env bash
# The main job: installs the tutor and opens its page at http://127.0.0.1:7860 (the default knowledge
# base builds on first launch, with progress shown in the page). Arguments go to app.py
# (e.g. --port 8080). `tutor ask "..."` stays the scripted path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 KERAS_BACKEND=torch
echo "Starting the tutor's page; open the URL printed below in your browser (Ctrl-C to stop)." >&2
exec python app.py "$@"
