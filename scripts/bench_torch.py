#!/usr/bin/env python3
"""PyTorch eager reference timings for scripts/bench-vs-torch.sh: the same measurements apogrid's
bench (benches/vs_torch.rs) makes, on the same configuration, printed as one JSON object.

The model's architecture is not written here: it comes from apogrid itself, as the JSON that
`cargo bench --bench vs_torch -- --model SPEC --config-only` prints (Hugging Face field names),
so the two sides always time the same model. Weights are random (seed 0): timing does not
depend on them, and generation is forced to --new tokens.

    cfg="$(cargo bench -q --bench vs_torch -- --model tiny --config-only)"
    python scripts/bench_torch.py --config-json "$cfg" --name tiny --batch 16 --prompt 64 --response 64 --threads 1

Measurements (median of --repeats after one warm-up):
  train_tokens_per_s       forward + backward + RMSProp step of the summed response log-probs
                           on batch x (prompt + response) tokens
  gen_tokens_per_s_cache   greedy new tokens per second with the KV cache (use_cache=True)
  gen_tokens_per_s_nocache greedy new tokens per second recomputing the prefix every step
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def load(args):
    """A float32 Llama with apogrid's config (see the module docstring) and random weights."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = {k: v for k, v in json.loads(args.config_json).items() if v is not None}
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(**cfg)).float()


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config-json", required=True, help="the model config apogrid prints (--config-only)")
    ap.add_argument("--name", default="model", help="label for the JSON line (apogrid's model SPEC)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--response", type=int, default=64)
    ap.add_argument("--new", type=int, default=64, help="new tokens for generation")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--measure", default="all", choices=["all", "train", "gen"])
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    model = load(args)
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    seq = args.prompt + args.response
    ids = torch.randint(3, vocab, (args.batch, seq), generator=g)
    prompts = torch.randint(3, vocab, (args.batch, args.prompt), generator=g)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-6, alpha=0.99, eps=1e-8, momentum=0.0)

    model.train()

    def step():
        # Summed response log-probs (prompt masked), as preference training scores them.
        opt.zero_grad(set_to_none=True)
        logp = F.log_softmax(model(ids).logits[:, :-1].float(), dim=-1)
        tok = logp.gather(-1, ids[:, 1:, None])[..., 0][:, args.prompt - 1:]
        loss = -tok.sum(-1).mean()
        loss.backward()
        opt.step()

    nan = float("nan")
    train_s = timed(step, args.reps) if args.measure != "gen" else nan
    model.eval()
    mask = torch.ones_like(prompts)

    def gen(use_cache):
        with torch.no_grad():
            model.generate(prompts, attention_mask=mask, max_new_tokens=args.new, min_new_tokens=args.new,
                           do_sample=False, use_cache=use_cache, pad_token_id=0)

    cache_s = timed(lambda: gen(True), args.reps) if args.measure != "train" else nan
    nocache_s = timed(lambda: gen(False), max(1, args.reps - 1)) if args.measure == "all" else nan
    new_tokens = args.batch * args.new
    per_s = lambda n, s: None if s != s else n / s  # NaN (not measured) becomes null
    print(json.dumps({
        "impl": "pytorch-" + torch.__version__, "threads": torch.get_num_threads(), "model": args.name,
        "params": sum(p.numel() for p in model.parameters()), "batch": args.batch, "seq": seq, "prompt": args.prompt,
        "train_step_s": None if train_s != train_s else train_s,
        "train_tokens_per_s": per_s(args.batch * seq, train_s), "gen_new_tokens": new_tokens,
        "gen_tokens_per_s_cache": per_s(new_tokens, cache_s), "gen_tokens_per_s_nocache": per_s(new_tokens, nocache_s),
    }))


if __name__ == "__main__":
    main()
