#!/usr/bin/env bash
# Scheduling overhead per task of the Slurm executor on the local cluster
# (scripts/slurm-local.sh start), against the local executor, on the micro grid of
# tests/slurm.rs (2 datasets x 2 objectives, 2 epochs: 20 tasks of 0.1-1 s each).
#
# Per task, from the job scripts' start/end lines (nanoseconds), the submission records and
# each task's own time in its task.json:
#   queue      submit -> job script starts (Slurm's scheduling and launch, plus waiting for a
#              free CPU: the cluster has as many as the machine, and up to 4 tasks are ready)
#   process    job script runs - task's own time (apogrid starting, loading the grid, claiming)
#   next       last parent's job script ends -> this task is submitted (poll + sbatch)
# and the wall time of the whole grid with each executor.
#
#   scripts/bench-slurm.sh [POLL_S ...]     (default: 0.3 2)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/target/release/apogrid"
[ -x "$BIN" ] || cargo build --release
scripts/slurm-local.sh status >/dev/null || { echo "no local Slurm: scripts/slurm-local.sh start" >&2; exit 1; }
POLLS=("$@")
[ ${#POLLS[@]} -gt 0 ] || POLLS=(0.3 2)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

grid() { # DIR POLL
    mkdir -p "$1"
    cat >"$1/grid.toml" <<EOF
[grid]
name = "micro"
seed = 3
store = "$1/store"
results = "$1/results"
[model]
spec = "tiny"
[model.pretrain]
examples = 96
epochs = 1
learning_rate = 2e-3
batch_size = 32
[prompts]
source = "world"
count = 24
[agents.sampling]
max_new_tokens = 24
[train]
epochs = 2
learning_rate = 1e-3
batch_size = 8
micro_batch_size = 4
max_prompt_tokens = 64
max_response_tokens = 32
[eval]
count = 14
max_new_tokens = 24
heldout_pairs = 4
[executor]
kind = "slurm"
poll_s = $2
[executor.resources.default]
cpus = 1
mem = "1G"
[[dataset]]
name = "clair"
builder = "clair"
[[dataset]]
name = "offp"
builder = "judge_off_policy"
[[objective]]
name = "dpo"
kind = "dpo"
[[objective]]
name = "apo_zero"
kind = "apo_zero"
EOF
}

wall() { # COMMAND...: prints seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)"
}

echo "load: $(uptime | sed 's/.*load average: //')   cores: $(nproc)"
grid "$WORK/local1" 0.3
grid "$WORK/local2" 0.3
printf '%-26s %8s\n' "executor" "wall s"
printf '%-26s %8.1f\n' "local --jobs 1" "$(wall "$BIN" run "$WORK/local1/grid.toml" --executor local --jobs 1)"
printf '%-26s %8.1f\n' "local --jobs 2" "$(wall "$BIN" run "$WORK/local2/grid.toml" --executor local --jobs 2)"
for poll in "${POLLS[@]}"; do
    d="$WORK/slurm-$poll"
    grid "$d" "$poll"
    printf '%-26s %8.1f\n' "slurm poll_s=$poll" "$(wall "$BIN" run "$d/grid.toml")"
done
echo "load: $(uptime | sed 's/.*load average: //')"
echo
for poll in "${POLLS[@]}"; do
    d="$WORK/slurm-$poll"
    "$BIN" plan "$d/grid.toml" --json >"$d/plan.json"
    python3 - "$d" "$poll" <<'EOF'
import json, statistics, sys, pathlib
d, poll = pathlib.Path(sys.argv[1]), sys.argv[2]
plan = json.load(open(d / "plan.json"))
slurm = d / "store" / ".slurm"
rows = {}
for t in plan:
    rec = json.load(open(slurm / f"{t['key']}.json"))
    log = (slurm / f"{t['key']}.out").read_text().split("\n")
    start = next(float(l.split()[2]) for l in log if l.startswith("apogrid-job start"))
    end = next(float(l.split()[2]) for l in log if l.startswith("apogrid-job end"))
    own = json.load(open(d / "store" / t["key"] / "task.json"))["seconds"]
    rows[t["id"]] = dict(submit=rec["submitted_ms"] / 1000, start=start, end=end, own=own, deps=t["deps"])
queue = [r["start"] - r["submit"] for r in rows.values()]
process = [r["end"] - r["start"] - r["own"] for r in rows.values()]
nxt = [r["submit"] - max(rows[p]["end"] for p in r["deps"]) for r in rows.values() if r["deps"]]
def line(name, xs):
    print(f"  {name:<34} mean {statistics.mean(xs):6.2f} s  median {statistics.median(xs):6.2f} s  min {min(xs):6.2f} s  max {max(xs):6.2f} s")
print(f"slurm poll_s={poll}: {len(rows)} tasks, per task")
line("queue (submit -> job starts)", queue)
line("process (job runs - task's own)", process)
line("next (parents end -> submitted)", nxt)
line("task's own time", [r["own"] for r in rows.values()])
EOF
done
