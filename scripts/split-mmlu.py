#!/usr/bin/env python3
"""Split the fetched MMLU test set (models/eval/mmlu.jsonl, from scripts/get-eval-data.sh) into
two disjoint halves for grids/smollm2.toml, by row: even rows stay benchmark questions
(models/eval/mmlu-eval.jsonl, same format), odd rows become preference-data prompts
(models/eval/mmlu-prompts.jsonl, one {"prompt": ...} per line: the question, its options, and an
instruction to answer with reasons). A model is never scored on a question it was trained on.

Standard library only; idempotent.  Usage: python3 scripts/split-mmlu.py [MMLU_JSONL]
"""
import json
import pathlib
import sys

source = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "models/eval/mmlu.jsonl")
if not source.is_file():
    sys.exit(f"split-mmlu.py: {source} not found; run scripts/get-eval-data.sh first")
rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
out = source.parent
with open(out / "mmlu-eval.jsonl", "w") as ev, open(out / "mmlu-prompts.jsonl", "w") as pr:
    for i, row in enumerate(rows):
        if i % 2 == 0:
            ev.write(json.dumps(row) + "\n")
            continue
        options = "\n".join(f"{l}. {row['answer_' + l.lower()]}" for l in "ABCD")
        topic = row["topic"].replace("_", " ")
        prompt = (f"A question about {topic}:\n\n{row['question']}\n{options}\n\n"
                  "Which option is correct? Answer with its letter, then explain why in a few sentences.")
        pr.write(json.dumps({"prompt": prompt}) + "\n")
print(f"split-mmlu.py: {len(rows)} rows -> {out / 'mmlu-eval.jsonl'} ({(len(rows) + 1) // 2}), "
      f"{out / 'mmlu-prompts.jsonl'} ({len(rows) // 2})")
