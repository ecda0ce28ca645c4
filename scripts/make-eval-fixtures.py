#!/usr/bin/env python3
"""Reference log-probs for the built-in benchmarks (src/eval/mmlu.rs, src/eval/hhh.rs), compared
by tests/cli_eval.rs: transformers scores a few real MMLU questions and HHH pairs on the
random-weight tiny Llama of tests/fixtures/tiny-llama/ (written by scripts/make-fixtures.py).

Needs torch and transformers (see scripts/reference-eval.py), never the Rust suite or CI.

    /work/venv-ref/bin/python scripts/make-eval-fixtures.py            # recompute the reference
    /work/venv-ref/bin/python scripts/make-eval-fixtures.py --select   # first re-pick the items
                                                                        # from models/eval/ (fetched)

Files (committed):
  tests/fixtures/eval/mmlu.jsonl            6 short MMLU test questions (MIT, Hendrycks et al.),
                                            6 topics, answers B, A, C, D, ...
  tests/fixtures/eval/hhh/SUBSET/task.json  the shortest pair of each HHH subset (Apache-2.0,
                                            BIG-bench hhh_alignment)
  tests/fixtures/eval-reference.json        token ids and summed log-probs of every continuation
                                            and response, in the files' item order
"""

import argparse
import importlib.util
import json
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
EVAL = os.path.join(FIX, "eval")

spec = importlib.util.spec_from_file_location("reference_eval", os.path.join(ROOT, "scripts", "reference-eval.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)


def write_json(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")
    os.replace(path + ".tmp", path)


def select():
    """The shortest questions of six topics (so the tiny model's 256 positions suffice) and the
    shortest pair of each HHH subset."""
    rows = ref.load_mmlu(os.path.join(ROOT, "models", "eval", "mmlu.jsonl"))
    rows.sort(key=lambda r: len(ref.mmlu_prompt(r)))
    picked, topics = [], set()
    for r in rows:
        if r["topic"] not in topics and r["answer"] == len(picked) % 4:
            picked.append(r)
            topics.add(r["topic"])
        if len(picked) == 6:
            break
    with open(os.path.join(EVAL, "mmlu.jsonl"), "w", encoding="utf-8") as f:
        for r in picked:
            keys = ["question", "answer_a", "answer_b", "answer_c", "answer_d", "correct_answer", "topic"]
            f.write(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n")
    pairs = ref.load_hhh(os.path.join(ROOT, "models", "eval", "hhh"))
    for subset in ref.SUBSETS:
        best = min((p for p in pairs if p["subset"] == subset),
                   key=lambda p: len(p["input"]) + len(p["better"]) + len(p["worse"]))
        ex = {"input": best["input"], "target_scores": {best["better"]: 1, best["worse"]: 0}}
        write_json(os.path.join(EVAL, "hhh", subset, "task.json"),
                   {"name": "hhh_alignment/" + subset + " (fixture)", "examples": [ex]}, indent=2)
    print("selected", len(picked), "MMLU questions and", len(ref.SUBSETS), "HHH pairs")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--select", action="store_true")
    args = ap.parse_args()
    if args.select:
        select()
    model, tok = ref.load_model("hf:" + os.path.join(FIX, "tiny-llama"))
    mmlu, out_mmlu = ref.load_mmlu(os.path.join(EVAL, "mmlu.jsonl")), []
    for r in mmlu:
        rows = ref.mmlu_rows(tok, r)
        assert all(len(c) + len(x) <= 256 for c, x in rows), "too long for the tiny model"
        out_mmlu.append({
            "line": r["line"],
            "prompt": ref.mmlu_prompt(r),
            "context_ids": rows[0][0],
            "continuation_ids": [x for _, x in rows],
            "logps": [ref.summed_logps(model, c, x) for c, x in rows],
        })
    hhh, out_hhh = ref.load_hhh(os.path.join(EVAL, "hhh")), []
    for it in hhh:
        rows = ref.hhh_rows(tok, it)
        assert all(len(c) + len(x) <= 256 for c, x in rows), "too long for the tiny model"
        out_hhh.append({
            "subset": it["subset"],
            "line": it["line"],
            "prompt_ids": rows[0][0],
            "better_ids": rows[0][1],
            "worse_ids": rows[1][1],
            "logps": [ref.summed_logps(model, c, x) for c, x in rows],
        })
    write_json(os.path.join(FIX, "eval-reference.json"), {
        "source": "scripts/make-eval-fixtures.py on tests/fixtures/tiny-llama (transformers %s, torch %s)"
                  % (__import__("transformers").__version__, torch.__version__),
        "mmlu": out_mmlu,
        "hhh": out_hhh,
    })
    print("wrote tests/fixtures/eval-reference.json:", len(out_mmlu), "MMLU questions,", len(out_hhh), "HHH pairs")


if __name__ == "__main__":
    main()
