#!/usr/bin/env python3
"""Load a folder written by `apogrid export` with transformers and check it.

Usage: scripts/check-export.py DIR [APOGRID_BIN]

Always: AutoModelForCausalLM.from_pretrained(DIR) must load as LlamaForCausalLM and run.
When DIR has a tokenizer.json: the summed log-prob of a fixed response under transformers must
match `apogrid logprob --model hf:DIR --raw --json` within 1e-3 relative.
Needs torch and transformers (PyPI); not part of the test suite.
"""
import json, os, subprocess, sys

import torch
import transformers

d = sys.argv[1]
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/apogrid"
model = transformers.AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32)
print("loaded", type(model).__name__, "vocab", model.config.vocab_size)
if not os.path.exists(os.path.join(d, "tokenizer.json")):
    ids = torch.tensor([[1, 10, 11, 12]])
    print("forward ok, logits", tuple(model(ids).logits.shape))
    sys.exit(0)
prompt, response = "What is the capital of France?", " The capital of France is Paris."
out = json.loads(subprocess.check_output([binary, "logprob", "--model", f"hf:{d}", "--prompt", prompt,
                                          "--response", response, "--raw", "--json"]))
ids = torch.tensor([out["prompt_ids"] + out["response_ids"]])
with torch.no_grad():
    logps = torch.log_softmax(model(ids).logits[0].double(), -1)
n = len(out["prompt_ids"])
ref = sum(float(logps[n + i - 1, t]) for i, t in enumerate(out["response_ids"]))
rel = abs(ref - out["logp"]) / max(1e-9, abs(ref))
print(f"transformers {ref:.5f}  apogrid {out['logp']:.5f}  relative difference {rel:.2e}")
sys.exit(0 if rel < 1e-3 else 1)
