#!/usr/bin/env python3
"""PyTorch eager reference timings for scripts/bench-model.sh: the same measurements apogrid's
bench makes, on the same configurations, printed as one JSON object per line.

    /work/venv/bin/python scripts/bench_torch.py --model smollm2 --batch 2 --prompt 32 --response 32 --new 32
    /work/venv/bin/python scripts/bench_torch.py --model tiny   # apogrid's tiny model config

Measurements (median of --repeats after one warm-up):
  train_tokens_per_s       forward + backward + RMSProp step of the summed response log-probs
                           on batch x (prompt + response) tokens
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
    if args.model == "tiny":
        # apogrid's embedded tiny model (src/model/tiny.rs): d=128, 4 layers, 4 heads / 2 kv, ffn 384.
        cfg = LlamaConfig(vocab_size=99, hidden_size=128, intermediate_size=384, num_hidden_layers=4,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                          rms_norm_eps=1e-5, tie_word_embeddings=True)
        torch.manual_seed(0)
        return LlamaForCausalLM(cfg)
    raise SystemExit("--model must be tiny or smollm2")


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
    ap.add_argument("--model", default="tiny", choices=["smollm2", "tiny"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--response", type=int, default=64)
    ap.add_argument("--new", type=int, default=64, help="new tokens for generation")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load(args)  # float32 already (GGUF is dequantized on load)
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

    train_s = timed(step, args.reps)
    model.eval()
    mask = torch.ones_like(prompts)

    def gen(use_cache):
        with torch.no_grad():
            model.generate(prompts, attention_mask=mask, max_new_tokens=args.new, min_new_tokens=args.new,
                           do_sample=False, use_cache=use_cache, pad_token_id=0)

    cache_s = timed(lambda: gen(True), args.reps)
    nocache_s = timed(lambda: gen(False), max(1, args.reps - 1))
    new_tokens = args.batch * args.new
    print(json.dumps({
        "impl": "pytorch-" + torch.__version__, "threads": torch.get_num_threads(), "model": args.model,
        "params": sum(p.numel() for p in model.parameters()), "batch": args.batch, "seq": seq,
        "train_step_s": train_s, "train_tokens_per_s": args.batch * seq / train_s,
        "gen_new_tokens": new_tokens, "gen_tokens_per_s_cache": new_tokens / cache_s,
        "gen_tokens_per_s_nocache": new_tokens / nocache_s,
    }))


if __name__ == "__main__":
    main()
