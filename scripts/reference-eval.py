#!/usr/bin/env python3
"""transformers reference for `apogrid eval --benchmark mmlu|hhh`: the same items, tokenization
and scoring in PyTorch, to check apogrid's numbers and compare speed.

Needs torch, transformers, gguf, accelerate (never the Rust suite or CI):
`python3 -m venv /work/venv-ref && /work/venv-ref/bin/pip install torch transformers gguf accelerate`

    apogrid eval --model smollm2 --benchmark mmlu --count 500 --json > apogrid-mmlu.json
    /work/venv-ref/bin/python scripts/reference-eval.py --benchmark mmlu --items-from apogrid-mmlu.json

The items are the ones apogrid evaluated (matched by line in the same data file), so seeded
subsets agree without re-implementing apogrid's RNG. Prints accuracy, items/s, and how far
each item's log-probs are from apogrid's.

Scoring, exactly as src/eval/mmlu.rs and src/eval/hhh.rs:
- MMLU: lm-eval's 0-shot prompt; `_encode_pair` (encode context + " X" whole, the continuation
  is what follows encode(context)); bos only when the tokenizer adds it by default (its default
  `add_special_tokens=True`); prediction = argmax of summed log-probs, first on ties.
- HHH: the input as one user turn through the chat template (add_generation_prompt), encoded
  without special tokens; response = encode(response) + encode(turn end "<|im_end|>"); correct
  when better > worse strictly.
"""

import argparse
import glob
import json
import os
import re
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LETTERS = "ABCD"
TURN_END = "<|im_end|>"
SUBSETS = ["helpful", "honest", "harmless", "other"]


# ---------------------------------------------------------------- data (same rules as the Rust loaders)
def load_mmlu(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if line.strip():
                row = json.loads(line)
                row["line"] = i + 1
                row["answer"] = LETTERS.index(row["correct_answer"].strip())
                items.append(row)
    return items


def load_task_json(path, subset):
    text = open(path, encoding="utf-8").read()
    lines, at = [], text.find('"input"')
    while at >= 0:
        lines.append(text.count("\n", 0, at) + 1)
        at = text.find('"input"', at + 1)
    out = []
    for i, ex in enumerate(json.loads(text)["examples"]):
        better = [k for k, v in ex["target_scores"].items() if v == 1]
        worse = [k for k, v in ex["target_scores"].items() if v == 0]
        assert len(ex["target_scores"]) == 2 and len(better) == 1 and len(worse) == 1, (path, i)
        out.append({"subset": subset, "input": ex["input"], "better": better[0], "worse": worse[0], "line": lines[i]})
    return out


def load_hhh(path):
    if os.path.isdir(path):
        subs = sorted((os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(path, "*", "task.json"))),
                      key=lambda s: (SUBSETS.index(s) if s in SUBSETS else len(SUBSETS), s))
        return [it for s in subs for it in load_task_json(os.path.join(path, s, "task.json"), s)]
    return load_task_json(path, os.path.basename(os.path.dirname(path)))


def mmlu_prompt(row):
    return ("The following are multiple choice questions (with answers) about %s.\n\n%s\nA. %s\nB. %s\nC. %s\nD. %s\nAnswer:"
            % (row["topic"].replace("_", " "), row["question"].strip(),
               row["answer_a"], row["answer_b"], row["answer_c"], row["answer_d"]))


# ---------------------------------------------------------------- tokenization
def encode_pair(tok, context, continuation):
    """lm-evaluation-harness's HFLM._encode_pair with the tokenizer's own bos default."""
    n = len(context) - len(context.rstrip())
    if n:
        continuation, context = context[-n:] + continuation, context[:-n]
    whole = tok.encode(context + continuation)
    ctx = tok.encode(context)
    return ctx, whole[len(ctx):]


def mmlu_rows(tok, row):
    ctx = mmlu_prompt(row)
    return [encode_pair(tok, ctx, " " + l) for l in LETTERS]


def hhh_rows(tok, item):
    text = tok.apply_chat_template([{"role": "user", "content": item["input"]}], tokenize=False, add_generation_prompt=True)
    prompt = tok.encode(text, add_special_tokens=False)
    end = tok.encode(TURN_END, add_special_tokens=False)
    return [(prompt, tok.encode(item[k], add_special_tokens=False) + end) for k in ("better", "worse")]


# ---------------------------------------------------------------- scoring
def summed_logps(model, context, continuation):
    """Plain and obviously right: one forward over context + continuation, sum of the
    continuation tokens' log-softmax."""
    ids = context + continuation
    with torch.no_grad():
        lp = F.log_softmax(model(torch.tensor([ids])).logits[0].float(), dim=-1)
    return sum(lp[len(context) + i - 1, t].item() for i, t in enumerate(continuation))


def next_token_batch(model, contexts, candidates, pad_id):
    """Right-padded batch of contexts; log-probs of each one's candidate tokens after its last token."""
    n = max(len(c) for c in contexts)
    ids = torch.tensor([c + [pad_id] * (n - len(c)) for c in contexts])
    mask = torch.tensor([[1] * len(c) + [0] * (n - len(c)) for c in contexts])
    with torch.no_grad():
        out = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        last = torch.stack([out[i, len(c) - 1] for i, c in enumerate(contexts)])
        lp = F.log_softmax(model.lm_head(last).float(), dim=-1)
    return [[lp[i, t].item() for t in cands] for i, cands in enumerate(candidates)]


def score_mmlu(model, tok, items, batch):
    rows = [mmlu_rows(tok, r) for r in items]
    logps = [None] * len(items)
    fast = [i for i, r in enumerate(rows) if all(len(c) == 1 for _, c in r)]
    fast.sort(key=lambda i: -len(rows[i][0][0]))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    for k in range(0, len(fast), batch):
        chunk = fast[k:k + batch]
        got = next_token_batch(model, [rows[i][0][0] for i in chunk], [[c[0] for _, c in rows[i]] for i in chunk], pad)
        for i, lp in zip(chunk, got):
            logps[i] = lp
    for i, r in enumerate(rows):
        if logps[i] is None:
            logps[i] = [summed_logps(model, c, x) for c, x in r]
    return logps


def score_hhh(model, tok, items):
    return [[summed_logps(model, c, x) for c, x in hhh_rows(tok, it)] for it in items]


def argmax(v):
    return max(range(len(v)), key=lambda i: (v[i], -i))


def load_model(spec):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if spec == "smollm2":
        spec = "gguf:" + os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    if spec.startswith("gguf:"):
        d, f = os.path.split(os.path.abspath(spec[5:]))
        tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    else:
        d = spec[3:] if spec.startswith("hf:") else spec
        tok = AutoTokenizer.from_pretrained(d)
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    return model.eval(), tok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2", help="smollm2, gguf:FILE or hf:DIR")
    ap.add_argument("--benchmark", choices=["mmlu", "hhh"], required=True)
    ap.add_argument("--path", help="data file (default: models/eval/mmlu.jsonl or models/eval/hhh)")
    ap.add_argument("--items-from", help="apogrid eval --json output: score exactly its items and compare")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", help="write the per-item log-probs here as JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    path = args.path or os.path.join(ROOT, "models", "eval", "mmlu.jsonl" if args.benchmark == "mmlu" else "hhh")
    items = load_mmlu(path) if args.benchmark == "mmlu" else load_hhh(path)
    theirs = None
    if args.items_from:
        theirs = json.load(open(args.items_from))["items"]
        # Lines are per file (HHH has one task.json per subset): match by (category, line).
        key = (lambda it: (it["topic"], it["line"])) if args.benchmark == "mmlu" else (lambda it: (it["subset"], it["line"]))
        by_key = {key(it): it for it in items}
        items = [by_key[(p["category"], p["line"])] for p in theirs]
    model, tok = load_model(args.model)
    t0 = time.time()
    logps = score_mmlu(model, tok, items, args.batch) if args.benchmark == "mmlu" else score_hhh(model, tok, items)
    secs = time.time() - t0
    if args.out:
        with open(args.out, "w") as f:
            json.dump([{"line": it["line"], "logps": lp} for it, lp in zip(items, logps)], f)
    if args.benchmark == "mmlu":
        correct = [argmax(lp) == it["answer"] for lp, it in zip(logps, items)]
    else:
        correct = [lp[0] > lp[1] for lp in logps]
    acc = 100.0 * sum(correct) / len(items)
    print("transformers %s %s: %.2f%% of %d (%d correct); scoring %.1fs = %.2f items/s (%d threads)"
          % (args.model, args.benchmark, acc, len(items), sum(correct), secs, len(items) / secs, args.threads))
    if theirs is not None:
        diffs = [abs(a - b) for p, lp in zip(theirs, logps) for a, b in zip(p["logps"], lp)]
        agree = sum(p["correct"] == c for p, c in zip(theirs, correct))
        ours = 100.0 * sum(p["correct"] for p in theirs) / len(theirs)
        print("apogrid: %.2f%%; same verdict on %d/%d items; |logp difference| max %.2e, mean %.2e"
              % (ours, agree, len(items), max(diffs), sum(diffs) / len(diffs)))
        # transformers' GGUF tokenizer ignores SmolLM2's digit rule (FACTS.md): with two or more
        # spaces before a digit the two sides score different token ids.
        texts = [mmlu_prompt(it) if args.benchmark == "mmlu" else it["input"] + it["better"] + it["worse"] for it in items]
        rule = [re.search(r"\s\s\d", t) is not None for t in texts]
        rest = [abs(a - b) for p, lp, r in zip(theirs, logps, rule) if not r for a, b in zip(p["logps"], lp)]
        if any(rule) and rest:
            print("  %d items have 2+ spaces before a digit; the others: |logp difference| max %.2e, mean %.2e"
                  % (sum(rule), max(rest), sum(rest) / len(rest)))
        for p, lp, c in zip(theirs, logps, correct):
            if p["correct"] != c:
                print("  differs: line %d apogrid %s transformers %s" % (p["line"], p["logps"], lp))


if __name__ == "__main__":
    main()
