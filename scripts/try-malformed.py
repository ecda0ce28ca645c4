#!/usr/bin/env python3
"""A hostile user's tour of grid validation: runs `apogrid plan` on malformed variants of
grids/tiny.toml and tallies, per variant, whether it was refused with a file:line:column
position and a key, refused without a position, or accepted. Prints a table and the totals.

Usage: python3 scripts/try-malformed.py [path/to/apogrid]   (default: target/release/apogrid)
"""
import os
import re
import subprocess
import sys
import tempfile

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/apogrid"
BASE = open("grids/tiny.toml").read()

# (what, from, to): `to` replaces the first `from` in tiny.toml; from == "" appends `to`.
CASES = [
    ("epochs 0", "epochs = 18", "epochs = 0"),
    ("epochs 1e9", "epochs = 18", "epochs = 1000000000"),
    ("epochs float", "epochs = 18", "epochs = 1.5"),
    ("batch_size 0", "batch_size = 16", "batch_size = 0"),
    ("micro batch not dividing", "micro_batch_size = 16", "micro_batch_size = 5"),
    ("micro batch 0", "micro_batch_size = 16", "micro_batch_size = 0"),
    ("lr negative", "learning_rate = 1e-5", "learning_rate = -1e-5"),
    ("lr nan", "learning_rate = 1e-5", "learning_rate = nan"),
    ("lr inf", "learning_rate = 1e-5", "learning_rate = inf"),
    ("lr string", "learning_rate = 1e-5", 'learning_rate = "fast"'),
    ("unknown train key", "epochs = 18", "epochs = 18\nlerning_rate = 1"),
    ("truncation 0", "max_prompt_tokens = 96", "max_prompt_tokens = 0"),
    ("schedule unknown", 'schedule = "linear"', 'schedule = "cosine"'),
    ("optimizer unknown", 'optimizer = "rmsprop"', 'optimizer = "sgd"'),
    ("prompts 0", "count = 180", "count = 0"),
    ("prompts huge", "count = 180", "count = 100000000"),
    ("heldout >= prompts", "heldout_pairs = 40", "heldout_pairs = 180"),
    ("heldout 0", "heldout_pairs = 40", "heldout_pairs = 0"),
    ("eval count 0", "count = 200", "count = 0"),
    ("max_new_tokens 0", "max_new_tokens = 112", "max_new_tokens = 0"),
    ("benchmark unknown", 'benchmark = "world"', 'benchmark = "mixeval"'),
    ("command without argv", 'benchmark = "world"', 'benchmark = "command"'),
    ("command as a string", 'benchmark = "world"', 'benchmark = "command"\ncommand = "eval.sh {output}"'),
    ("command placeholder", 'benchmark = "world"', 'benchmark = "command"\ncommand = ["sh", "{checkpoint}", "{output}"]'),
    ("sampling temperature nan", "temperature = 0.7", "temperature = nan"),
    ("sampling temperature negative", "temperature = 0.7", "temperature = -0.5"),
    ("pretrain batch 0", "batch_size = 32", "batch_size = 0"),
    ("pretrain examples 0", "examples = 16000", "examples = 0"),
    ("model spec unknown", 'spec = "tiny"', 'spec = "llama"'),
    ("model tiny:3", 'spec = "tiny"', 'spec = "tiny:3"'),
    ("jobs 0", "jobs = 2", "jobs = 0"),
    ("device tpu", "jobs = 2", 'jobs = 2\nlist = ["tpu:0"]'),
    ("name with capitals", 'name = "tiny"', 'name = "Tiny"'),
    ("duplicate dataset", "", '[[dataset]]\nname = "clair"\nbuilder = "clair"'),
    ("unknown builder", 'builder = "clair"', 'builder = "clear"'),
    ("file builder without path", 'builder = "clair"', 'builder = "file"'),
    ("path on clair", 'builder = "clair"', 'builder = "clair"\npath = "x.jsonl"'),
    ("ratio min > max", 'builder = "clair"', 'builder = "clair"\nmin_length_ratio = 3.0'),
    ("unknown objective kind", 'kind = "dpo"', 'kind = "ipo"'),
    ("beta on sft", 'kind = "sft"', 'kind = "sft"\nbeta = 0.1'),
    ("beta negative", "beta = 0.1", "beta = -0.1"),
    ("weights on dpo", 'kind = "dpo"', 'kind = "dpo"\ndesirable_weight = 2.0'),
    ("kto enabled, micro batch 1", "micro_batch_size = 16", "micro_batch_size = 1"),
    ("every cell excluded", "", "".join(f'[[exclude]]\ndataset = "{d}"\nobjective = "{o}"\n'
        for d in ["clair", "judge_on_policy", "judge_off_policy", "stronger_preferred"]
        for o in ["dpo", "kto_pair", "sft", "apo_zero", "apo_down"])),
    ("exclude unknown dataset", "", '[[exclude]]\ndataset = "nope"\nobjective = "dpo"'),
    ("seed and seeds", "seed = 0", "seed = 0\nseeds = [1, 2]"),
    ("seeds repeated", "seed = 0", "seeds = [1, 1]"),
    ("api key pasted", "", '[agents.judge]\nkind = "api"\nbase_url = "http://localhost:1/v1"\nmodel = "m"\napi_key_env = "sk-secret"'),
    ("api url without scheme", "", '[agents.judge]\nkind = "api"\nbase_url = "localhost:1/v1"\nmodel = "m"'),
    ("toml syntax", "epochs = 18", "epochs = = 18"),
    ("not utf-8", "", None),
]

rows, tally = [], {"refused, with line:column and key": 0, "refused, without a position": 0, "accepted": 0}
with tempfile.TemporaryDirectory() as d:
    for what, old, new in CASES:
        if what == "kto enabled, micro batch 1":
            text = BASE.replace(old, new, 1).replace("enabled = false", "enabled = true", 1)
        elif new is None:
            text = BASE.encode() + b"\n# \xff\n"
        elif old:
            assert old in BASE, old
            text = BASE.replace(old, new, 1)
        else:
            text = BASE + "\n" + new + "\n"
        path = os.path.join(d, "bad.toml")
        open(path, "wb").write(text if isinstance(text, bytes) else text.encode())
        out = subprocess.run([BIN, "plan", path], capture_output=True, text=True, errors="replace")
        err = out.stderr.strip().splitlines()[0] if out.returncode else ""
        if out.returncode == 0:
            kind = "accepted"
        elif re.match(r".*bad\.toml:\d+:\d+: ", err):
            kind = "refused, with line:column and key" if "key `" in err or "not UTF-8" in err else "refused, without a position"
        else:
            kind = "refused, without a position"
        tally[kind] += 1
        rows.append((what, kind, err.replace(d + "/", "")[:150]))
for what, kind, err in rows:
    print(f"{what:32} {kind:36} {err}")
print()
for k, v in tally.items():
    print(f"{v:3} {k}")
print(f"{len(CASES):3} malformed grids tried")
