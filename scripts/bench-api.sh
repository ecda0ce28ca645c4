#!/usr/bin/env bash
# Requests/s of the API client against an instant loopback server (benches/api.rs).
# APOGRID_BENCH_REQUESTS sets the batch size (default 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
uptime
cargo bench --bench api
