#!/usr/bin/env bash
# burn (flex CPU backend, benches/vs_torch.rs) vs PyTorch eager (scripts/bench_torch.py) on the
# same models and shapes, printed as one table with ratios (> 1 means burn is faster):
# training step (forward + backward + RMSProp) and greedy generation with the KV cache, for the
# embedded tiny model and SmolLM2-135M (skipped when models/ lacks it; scripts/get-smollm2.sh).
#
#   PYTHON=/work/venv-ref/bin/python scripts/bench-vs-torch.sh
#
# One config source: PyTorch builds its model from the config apogrid prints (`--config-only`),
# so both sides time the same architecture. Threads are pinned the same way on both sides:
# "N threads" runs each side with N intra-op threads (a rayon pool of N for burn,
# torch.set_num_threads(N) for PyTorch) under `taskset` on cores 0..N-1. The two sides are
# timed one after the other; the load average is printed before and after: trust a table only
# from a quiet machine. Needs a Python with torch and transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
REPS="${REPS:-5}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)"
cargo build --release --bench vs_torch --quiet
bench="$(cargo bench --bench vs_torch --no-run --message-format=json 2>/dev/null \
    | "$python" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "vs_torch" and m.get("executable"):
        print(m["executable"])')"

lines=()
# side THREADS MODEL ARGS...: one JSON line from each side, both pinned to cores 0..THREADS-1.
side() {
    local threads="$1" model="$2"; shift 2
    local cpus config
    cpus="$(seq -s, 0 $((threads - 1)))"
    config="$("$bench" --model "$model" --config-only)"
    lines+=("$(taskset -c "$cpus" "$bench" --model "$model" --threads "$threads" --reps "$REPS" "$@" | tail -1)")
    lines+=("$(taskset -c "$cpus" "$python" scripts/bench_torch.py --config-json "$config" --name "$model" \
        --threads "$threads" --reps "$REPS" "$@" 2>/dev/null | tail -1)")
}

tiny=(--batch 16 --prompt 64 --response 64 --new 64)
side 2 tiny "${tiny[@]}"
side 1 tiny "${tiny[@]}"
if [[ -s models/SmolLM2-135M-Instruct.Q4_1.gguf ]]; then
    smol=(--batch 2 --prompt 32 --response 32 --new 16)
    side 2 smollm2 "${smol[@]}"
    side 1 smollm2 "${smol[@]}" --measure train
else
    echo "smollm2: skipped (run scripts/get-smollm2.sh)"
fi
printf '%s\n' "${lines[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "${lines[@]}" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1:]]
print("\n| config | measurement | burn flex | PyTorch eager | ratio |\n|---|---|---|---|---|")
for burn, torch in zip(rows[::2], rows[1::2]):
    shape = "%s, batch %d x %d tokens, %d thread%s" % (
        burn["model"], burn["batch"], burn["seq"], burn["threads"], "" if burn["threads"] == 1 else "s")
    if burn["train_step_s"] and torch["train_step_s"]:
        b, t = burn["train_step_s"], torch["train_step_s"]
        print("| %s | train step | %.3f s | %.3f s | %.2fx |" % (shape, b, t, t / b))
    if burn["gen_tokens_per_s_cache"] and torch["gen_tokens_per_s_cache"]:
        b, t = burn["gen_tokens_per_s_cache"], torch["gen_tokens_per_s_cache"]
        print("| %s | greedy generation, KV cache | %.0f tok/s | %.0f tok/s | %.2fx |" % (shape, b, t, b / t))
PY
