#!/usr/bin/env bash
# Model-floor throughput on this machine's CPU (flex backend): tiny-model training step and
# generation with and without the KV cache. Extra arguments go to the bench binary, e.g.
#   scripts/bench-model.sh --batch 16 --prompt 64 --response 64 --new 64 --reps 3
# Run it on an otherwise idle machine for honest numbers (no concurrent builds).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)"
cargo bench --bench model -- "$@"
