#!/usr/bin/env bash
# apogrid evaluator command for the paper's benchmark, MixEval-Hard (2024-06-01).
#
#   [eval]
#   benchmark = "command"
#   command = ["scripts/eval-mixeval.sh", "{model_dir}", "{output}"]
#   env = ["OPENAI_API_KEY"]        # MixEval's answer parser is an OpenAI model
#
# {model_dir} is the checkpoint as a Hugging Face folder (config.json, model.safetensors,
# tokenizer files, chat template); {output} is where apogrid reads the score from:
# {"score": <overall %>, "categories": {<sub-benchmark>: %, ...}}.
#
# Needs (not available on apogrid's CI machines, so this script is not run there): a GPU,
# MixEval installed (`git clone` of github.com/Psycoy/MixEval, `pip install -e .`, which
# downloads its data from the Hugging Face hub) with a model entry that loads a local folder
# (MixEval's `local_chat` model; see its README, "Evaluating local checkpoints"), and
# OPENAI_API_KEY for its GPT-3.5 parser. MIXEVAL_ARGS adds flags (e.g. --max_gpu_memory 60GiB).
set -euo pipefail
model_dir=${1:?usage: eval-mixeval.sh MODEL_DIR OUTPUT_JSON}
output=${2:?usage: eval-mixeval.sh MODEL_DIR OUTPUT_JSON}
python3 -c "import mix_eval" 2>/dev/null || {
    echo "eval-mixeval.sh: MixEval is not installed (python3 -c 'import mix_eval' failed); see this script's header" >&2
    exit 2
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086
python3 -m mix_eval.evaluate \
    --model_name local_chat --model_path "$model_dir" \
    --benchmark mixeval_hard --version 2024-06-01 \
    --batch_size 8 --output_dir "$work" --api_parallel_num 16 ${MIXEVAL_ARGS:-} >&2
# MixEval writes score.json files per model and version under the output folder; take the
# overall score and the per-benchmark scores (fractions) and report percentages.
python3 - "$work" "$output" <<'PY'
import json, pathlib, sys
work, output = pathlib.Path(sys.argv[1]), sys.argv[2]
found = sorted(work.rglob("score.json"))
if not found:
    sys.exit(f"eval-mixeval.sh: MixEval wrote no score.json under {work}")
scores = json.loads(found[-1].read_text())
model = next(iter(scores.values())) if scores and all(isinstance(v, dict) for v in scores.values()) else scores
overall = model.get("overall score (final score)", model.get("overall"))
if overall is None:
    sys.exit(f"eval-mixeval.sh: no overall score in {found[-1]}: keys {sorted(model)}")
categories = {k: 100 * v for k, v in model.items() if isinstance(v, (int, float)) and not k.startswith("overall")}
json.dump({"score": 100 * overall, "categories": categories}, open(output, "w"))
PY
