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
# torch.set_num_threads(N) for PyTorch) under `taskset` on cores 0..N-1. The sides are timed one
# after the other; the load average is printed before and after: trust a table only from a quiet
# machine, or raise ROUNDS. Needs a Python with torch and transformers.
#
# Options (environment):
#   REPS=5     timed repetitions inside each process (its median is the process's figure)
#   ROUNDS=1   times the whole set of sides is run, interleaved (flex, tch, torch, flex, ...);
#              the table shows each side's median over the rounds, so a burst of load from
#              another process hits every side alike
#   BURN_TCH=1 adds a column for burn on libtorch's CPU kernels (device `tch-cpu`): builds the
#              bench with `--features tch` against the torch 2.9.0 of TCH_PYTHON (default: the
#              `python3` on PATH; README "Backends") and runs it with libtorch on LD_LIBRARY_PATH
#              and OMP_NUM_THREADS set to the thread count
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
REPS="${REPS:-5}"
ROUNDS="${ROUNDS:-1}"
BURN_TCH="${BURN_TCH:-0}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)"

# bench_executable CARGO_ARGS...: builds the vs_torch bench and prints its path.
bench_executable() {
    cargo build --release --bench vs_torch --quiet "$@"
    cargo bench --bench vs_torch --no-run --message-format=json "$@" 2>/dev/null \
        | "$python" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "vs_torch" and m.get("executable"):
        print(m["executable"])'
}
bench="$(bench_executable)"
tch_bench="" tch_lib=""
if [[ "$BURN_TCH" == 1 ]]; then
    tch_python="${TCH_PYTHON:-$(command -v python3)}"
    tch_lib="$("$tch_python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
    tch_bench="$(LIBTORCH_USE_PYTORCH=1 PATH="$(dirname "$tch_python"):$PATH" bench_executable --features tch)"
    echo "burn tch: libtorch from $tch_lib"
fi

lines=()
# side THREADS MODEL ARGS...: one JSON line from each implementation, all pinned to cores
# 0..THREADS-1.
side() {
    local threads="$1" model="$2"; shift 2
    local cpus config
    cpus="$(seq -s, 0 $((threads - 1)))"
    config="$("$bench" --model "$model" --config-only)"
    lines+=("$(taskset -c "$cpus" "$bench" --model "$model" --threads "$threads" --reps "$REPS" "$@" | tail -1)")
    if [[ -n "$tch_bench" ]]; then
        lines+=("$(LD_LIBRARY_PATH="$tch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OMP_NUM_THREADS="$threads" \
            taskset -c "$cpus" "$tch_bench" --device tch-cpu --model "$model" --threads "$threads" --reps "$REPS" "$@" \
            | tail -1)")
    fi
    lines+=("$(taskset -c "$cpus" "$python" scripts/bench_torch.py --config-json "$config" --name "$model" \
        --threads "$threads" --reps "$REPS" "$@" 2>/dev/null | tail -1)")
}

tiny=(--batch 16 --prompt 64 --response 64 --new 64)
smol=(--batch 2 --prompt 32 --response 32 --new 16)
have_smol=0
[[ -s models/SmolLM2-135M-Instruct.Q4_1.gguf ]] && have_smol=1 || echo "smollm2: skipped (run scripts/get-smollm2.sh)"
for ((round = 1; round <= ROUNDS; round++)); do
    side 2 tiny "${tiny[@]}"
    side 1 tiny "${tiny[@]}"
    if [[ "$have_smol" == 1 ]]; then
        side 2 smollm2 "${smol[@]}"
        side 1 smollm2 "${smol[@]}" --measure train
    fi
done
printf '%s\n' "${lines[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "${lines[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in sys.argv[1:]]
side = lambda r: "tch" if r["impl"] == "burn-tch" else "flex" if r["impl"].startswith("burn") else "torch"
# (model, batch, seq, threads) -> side -> measurement -> values over the rounds, in run order.
configs = {}
for r in rows:
    key = (r["model"], r["batch"], r["seq"], r["threads"])
    for m in ("train_step_s", "gen_tokens_per_s_cache"):
        if r[m]:
            configs.setdefault(key, {}).setdefault(side(r), {}).setdefault(m, []).append(r[m])
tch = any(side(r) == "tch" for r in rows)
cols = ["burn flex"] + (["burn tch"] if tch else []) + ["PyTorch eager", "flex ratio"] + (["tch ratio"] if tch else [])
print("\n| config | measurement | " + " | ".join(cols) + " |")
print("|---" * (len(cols) + 2) + "|")
for (model, batch, seq, threads), sides in configs.items():
    shape = "%s, batch %d x %d tokens, %d thread%s" % (model, batch, seq, threads, "" if threads == 1 else "s")
    for m, what, fmt in (("train_step_s", "train step", "%.3f s"),
                         ("gen_tokens_per_s_cache", "greedy generation, KV cache", "%.0f tok/s")):
        med = {s: statistics.median(v[m]) for s, v in sides.items() if m in v}
        if "torch" not in med or "flex" not in med:
            continue
        # A ratio > 1 means burn is faster: time ratio for steps, rate ratio for generation.
        ratio = lambda s: (med["torch"] / med[s] if m == "train_step_s" else med[s] / med["torch"])
        cells = [fmt % med["flex"]] + ([fmt % med["tch"] if "tch" in med else "-"] if tch else [])
        cells += [fmt % med["torch"], "%.2fx" % ratio("flex")] + (["%.2fx" % ratio("tch") if "tch" in med else "-"] if tch else [])
        print("| %s | %s | %s |" % (shape, what, " | ".join(cells)))
rounds = max(len(v) for s in configs.values() for d in s.values() for v in d.values()) if configs else 0
if rounds > 1:
    print("\n(medians over %d interleaved rounds)" % rounds)
PY
