#!/usr/bin/env python3
"""PyTorch eager reference timings for scripts/bench-model.sh: the same measurements apogrid's
bench makes, on the same configurations, printed as one JSON object per line.

    /work/venv/bin/python scripts/bench_torch.py --model smollm2 [--batch 4 --seq 128 --new 32]
    /work/venv/bin/python scripts/bench_torch.py --model tiny --hidden 128 --layers 4 --vocab 64

Measurements (median of --repeats after one warm-up):
  train_tokens_per_s       forward + backward of the causal-LM loss on batch x seq tokens
                           (no optimizer step: that is the same elementwise work in both)
  gen_tokens_per_s_cache   greedy new tokens per second with the KV cache (use_cache=True)
  gen_tokens_per_s_nocache greedy new tokens per second recomputing the prefix every step
"""

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(args):
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    if args.model == "smollm2":
        path = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
        d, f = os.path.split(path)
        return AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    cfg = LlamaConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate or 4 * args.hidden,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads or args.heads,
        max_position_embeddings=4096,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(cfg)


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
    ap.add_argument("--model", default="smollm2", choices=["smollm2", "tiny"])
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--intermediate", type=int, default=0)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--prompt", type=int, default=16, help="prompt length for generation")
    ap.add_argument("--new", type=int, default=32, help="new tokens for generation")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load(args).float()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (args.batch, args.seq), generator=g)

    model.train()

    def step():
        model.zero_grad(set_to_none=True)
        logits = model(ids).logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1))
        loss.backward()

    train_s = timed(step, args.repeats)
    model.eval()
    prompt = ids[:, : args.prompt]
    mask = torch.ones_like(prompt)

    def gen(use_cache):
        with torch.no_grad():
            model.generate(prompt, attention_mask=mask, max_new_tokens=args.new, min_new_tokens=args.new,
                           do_sample=False, use_cache=use_cache, pad_token_id=0)

    cache_s = timed(lambda: gen(True), args.repeats)
    nocache_s = timed(lambda: gen(False), max(1, args.repeats - 1))
    new_tokens = args.batch * args.new
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "model": args.model,
        "params": sum(p.numel() for p in model.parameters()), "batch": args.batch, "seq": args.seq,
        "train_step_s": round(train_s, 4), "train_tokens_per_s": round(args.batch * args.seq / train_s, 1),
        "gen_new_tokens": new_tokens, "gen_tokens_per_s_cache": round(new_tokens / cache_s, 1),
        "gen_tokens_per_s_nocache": round(new_tokens / nocache_s, 1),
    }))


if __name__ == "__main__":
    main()
