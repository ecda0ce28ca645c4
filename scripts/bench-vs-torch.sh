#!/usr/bin/env bash
# burn (flex CPU backend) vs PyTorch eager on the same models and shapes: training step
# tokens/s and generation tokens/s with and without the KV cache, for the embedded tiny model
# and SmolLM2-135M (skipped when models/ lacks it; see scripts/get-smollm2.sh). Prints both JSON
# lines and the burn / PyTorch ratios (> 1 means burn is faster).
#
#   PYTHON=/work/venv/bin/python scripts/bench-vs-torch.sh
#
# Needs a Python with torch + transformers + gguf (see scripts/make-fixtures.py). Run it on an
# otherwise idle machine: the two sides are timed one after the other, not concurrently.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)"
cargo build --release --benches --quiet

run() {
    local name="$1"; shift
    local burn torch
    burn="$(cargo bench --quiet --bench vs_torch -- --model "$name" "$@" | tail -1)"
    torch="$("$python" scripts/bench_torch.py --model "$name" "$@" 2>/dev/null | tail -1)"
    echo "$burn"
    echo "$torch"
    "$python" - "$burn" "$torch" <<'PY'
import json, sys
b, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("%-8s burn/pytorch: train %.2fx   gen+cache %.2fx   gen-no-cache %.2fx" % (
    b["model"], b["train_tokens_per_s"] / t["train_tokens_per_s"],
    b["gen_tokens_per_s_cache"] / t["gen_tokens_per_s_cache"],
    b["gen_tokens_per_s_nocache"] / t["gen_tokens_per_s_nocache"]))
PY
}

run tiny --batch 16 --prompt 64 --response 64 --new 64 --reps 3
if [[ -s models/SmolLM2-135M-Instruct.Q4_1.gguf ]]; then
    run smollm2 --batch 2 --prompt 32 --response 32 --new 16 --reps 2
else
    echo "smollm2: skipped (run scripts/get-smollm2.sh)"
fi
