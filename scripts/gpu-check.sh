#!/usr/bin/env bash
# One prepared check of apogrid on a GPU machine (issue 14), writing one JSON file.
#
#   scripts/gpu-check.sh BINARY [OUT_DIR]        # BINARY: a `--profile ship --features cuda` build
#   DRY_RUN=1 scripts/gpu-check.sh target/release/apogrid /tmp/gc   # rehearsal on the CPU, small shapes
#
# Runs from the repository root (it reads grids/tiny.toml and scripts/gpu_torch_step.py). Needs
# python3 with torch for the PyTorch side (transformers optional). No network, no model weights:
# the benchmarked models are random-initialised at published configs. Each step has a timeout
# so the whole stays under 8 minutes; a step that fails or times out is recorded, not fatal.
#   1. the tiny grid, 2 epochs, on $DEVICE and on the CPU; Table 2 compared cell by cell
#   2. DPO training steps of SmolLM2-135M and Llama-3.2-1B configs in f32 and bf16: burn
#      (apogrid bench-step) vs PyTorch eager (scripts/gpu_torch_step.py), same shapes
#   3. one bf16 training step of a Llama-3-8B config at the paper's batch and truncation
#      (1 pair = 2 rows of 512 + 512 tokens): peak memory against apogrid's estimate
# Result: OUT_DIR/gpu-check.json (plus each step's raw output in OUT_DIR).
set -uo pipefail
bin=$(realpath "${1:?usage: scripts/gpu-check.sh BINARY [OUT_DIR]}")
out=$(mkdir -p "${2:-gpu-check-out}" && realpath "${2:-gpu-check-out}")
dry=${DRY_RUN:-0}
device=${DEVICE:-cuda:0}
python=${PYTHON:-python3}
# H200 dense peaks (NVIDIA's datasheet): 989 TFLOP/s bf16 tensor cores, 67 f32 without TF32.
peak_bf16=${PEAK_BF16_TFLOPS:-989}
peak_f32=${PEAK_F32_TFLOPS:-67}
if [ "$dry" = 1 ]; then
    device=cpu
    models="tiny"
    shape=(--pairs 1 --prompt-tokens 16 --response-tokens 16 --steps 2 --warmup 1)
    grid_epochs=1
    # A much smaller grid, so the rehearsal finishes on a laptop's cores.
    shrink=(-e "s/^examples = 16000/examples = 400/" -e "s/^count = 180/count = 60/" -e "s/^heldout_pairs = .*/heldout_pairs = 8/")
else
    shrink=()
    models="smollm2-135m llama3.2-1b"
    shape=(--pairs 4 --prompt-tokens 256 --response-tokens 256 --steps 3 --warmup 1)
    grid_epochs=2
fi
cd "$(dirname "$0")/.."
started=$(date +%s)
log() { echo "gpu-check: $*" >&2; }

# 0. The machine.
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1 || true
"$bin" --version >"$out/version.txt" 2>&1 || true

# 1. The tiny grid on the device and on the CPU, concurrently.
tiny_variant() { # $1 = folder
    mkdir -p "$1"
    sed -e "s|^name = \"tiny\"|name = \"tiny\"\nstore = \"$1/store\"\nresults = \"$1/results\"|" \
        -e "0,/^epochs = 18/s//epochs = $grid_epochs/" "${shrink[@]}" grids/tiny.toml >"$1/tiny.toml"
}
tiny_variant "$out/grid-device"
tiny_variant "$out/grid-cpu"
log "tiny grid ($grid_epochs epochs) on $device and cpu"
(
    s=$(date +%s)
    timeout 300 "$bin" run "$out/grid-device/tiny.toml" --devices "$device" --quiet >"$out/grid-device/log.txt" 2>&1
    echo "$? $(($(date +%s) - s))" >"$out/grid-device/status"
) &
(
    s=$(date +%s)
    timeout 300 "$bin" run "$out/grid-cpu/tiny.toml" --devices cpu --jobs 4 --quiet >"$out/grid-cpu/log.txt" 2>&1
    echo "$? $(($(date +%s) - s))" >"$out/grid-cpu/status"
) &
wait

# 2. Training steps, burn vs PyTorch, same config and shapes.
for model in $models; do
    "$bin" bench-step --model "$model" --print-config >"$out/$model.config.json"
    for precision in f32 bf16; do
        peak=$peak_f32
        [ "$precision" = bf16 ] && peak=$peak_bf16
        log "$model $precision: burn"
        timeout 120 "$bin" bench-step --model "$model" --precision "$precision" --device "$device" \
            "${shape[@]}" --peak-tflops "$peak" >"$out/step-$model-$precision-burn.json" 2>"$out/step-$model-$precision-burn.err"
        log "$model $precision: torch"
        timeout 120 "$python" scripts/gpu_torch_step.py --config "$out/$model.config.json" --precision "$precision" \
            --device "$device" "${shape[@]}" --peak-tflops "$peak" \
            >"$out/step-$model-$precision-torch.json" 2>"$out/step-$model-$precision-torch.err"
    done
done

# 3. The paper's model, one bf16 step at its batch and truncation.
if [ "$dry" != 1 ]; then
    log "llama3-8b bf16: one step"
    timeout 180 "$bin" bench-step --model llama3-8b --precision bf16 --device "$device" --pairs 1 \
        --prompt-tokens 512 --response-tokens 512 --steps 1 --warmup 0 --peak-tflops "$peak_bf16" \
        >"$out/step-llama3-8b-bf16-burn.json" 2>"$out/step-llama3-8b-bf16-burn.err"
fi

# The summary.
"$python" - "$out" "$models" "$(($(date +%s) - started))" "$dry" <<'EOF'
import csv, json, os, sys
out, models, seconds, dry = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4] == "1"

def read(name):
    path = os.path.join(out, name)
    try:
        return json.load(open(path))
    except Exception:
        err = path[:-5] + ".err"
        tail = open(err).read()[-600:] if os.path.exists(err) else "no output"
        return {"error": tail}

def grid(folder):
    status = open(os.path.join(out, folder, "status")).read().split()
    table = os.path.join(out, folder, "results", "tiny", "table2.csv")
    rows = {}
    if os.path.exists(table):
        for r in csv.DictReader(open(table)):
            rows[(r["dataset"], r["objective"])] = r
    return {"exit": int(status[0]), "seconds": int(status[1]), "cells": len(rows)}, rows

dev_info, dev_rows = grid("grid-device")
cpu_info, cpu_rows = grid("grid-cpu")
# Sampling turns float-level differences between kernels into different datasets, so the two
# runs are compared loosely: per cell, |Max| and |Mean| within 10 points; overall within 3.
diffs = []
for key in sorted(set(dev_rows) & set(cpu_rows)):
    for col in ("max", "mean"):
        a, b = dev_rows[key][col], cpu_rows[key][col]
        if a and b:
            diffs.append(abs(float(a) - float(b)))
tiny = {"device": dev_info, "cpu": cpu_info, "cells_compared": len(diffs) // 2,
        "max_abs_diff": max(diffs) if diffs else None,
        "mean_abs_diff": sum(diffs) / len(diffs) if diffs else None,
        "tolerance": "per cell <= 10 points, mean <= 3 points",
        "pass": bool(diffs) and max(diffs) <= 10 and sum(diffs) / len(diffs) <= 3}
steps = []
for m in models:
    for p in ("f32", "bf16"):
        burn, torch = read(f"step-{m}-{p}-burn.json"), read(f"step-{m}-{p}-torch.json")
        ratio = None
        if "tokens_per_second" in burn and "tokens_per_second" in torch:
            ratio = burn["tokens_per_second"] / torch["tokens_per_second"]
        steps.append({"model": m, "precision": p, "burn": burn, "torch": torch, "burn_over_torch": ratio})
result = {"dry_run": dry, "seconds": seconds,
          "gpu": open(os.path.join(out, "gpu.txt")).read().strip(),
          "apogrid": open(os.path.join(out, "version.txt")).read().strip(),
          "tiny_grid": tiny, "steps": steps}
if not dry:
    result["llama3_8b_bf16_step"] = read("step-llama3-8b-bf16-burn.json")
tmp = os.path.join(out, "gpu-check.json.tmp")
json.dump(result, open(tmp, "w"), indent=1)
os.replace(tmp, os.path.join(out, "gpu-check.json"))
print(json.dumps({"seconds": seconds, "tiny_grid_pass": tiny["pass"],
                  "burn_over_torch": {f"{s['model']} {s['precision']}": s["burn_over_torch"] for s in steps}}, indent=1))
EOF
