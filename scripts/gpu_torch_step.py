#!/usr/bin/env python3
"""PyTorch eager's side of `apogrid bench-step`: the same DPO training step (policy forward on
chosen and rejected rows, summed response log-probs in f32, the DPO loss, backward, RMSprop with
alpha 0.99, eps 1e-8) on a randomly initialised model built from the config apogrid prints.

    apogrid bench-step --model llama3.2-1b --print-config > cfg.json
    python3 scripts/gpu_torch_step.py --config cfg.json --precision bf16 --device cuda:0 \
        --pairs 1 --prompt-tokens 512 --response-tokens 512 --steps 3

bf16 here is autocast with f32 parameters, matching apogrid's bf16 (f32 master weights, bf16
compute, f32 log-softmax). Uses transformers' LlamaForCausalLM when transformers is installed
(what a TRL user runs), else a compact Llama written below with the same maths. Prints one
JSON object with the fields apogrid's bench prints.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


class Llama(torch.nn.Module):
    """Llama decoder (RMSNorm, GQA attention with rotary half-split, SwiGLU), causal, no padding."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        self.nh = c["num_attention_heads"]
        self.nkv = c.get("num_key_value_heads") or self.nh
        self.hd = c.get("head_dim") or h // self.nh
        lin = lambda a, b: torch.nn.Linear(a, b, bias=False)
        self.embed = torch.nn.Embedding(v, h)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            l = torch.nn.Module()
            l.n1, l.n2 = torch.nn.RMSNorm(h, eps=c["rms_norm_eps"]), torch.nn.RMSNorm(h, eps=c["rms_norm_eps"])
            l.q, l.k, l.v = lin(h, self.nh * self.hd), lin(h, self.nkv * self.hd), lin(h, self.nkv * self.hd)
            l.o = lin(self.nh * self.hd, h)
            l.gate, l.up, l.down = lin(h, i), lin(h, i), lin(i, h)
            self.layers.append(l)
        self.norm = torch.nn.RMSNorm(h, eps=c["rms_norm_eps"])
        self.head = None if c.get("tie_word_embeddings") else lin(h, v)
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, ids):
        b, t = ids.shape
        pos = torch.arange(t, device=ids.device).float()
        ang = torch.outer(pos, self.inv_freq)
        cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)

        def rope(x):
            x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2 :]
            return x * cos + torch.cat([-x2, x1], -1) * sin

        x = self.embed(ids)
        for l in self.layers:
            y = l.n1(x)
            q = rope(l.q(y).view(b, t, self.nh, self.hd).transpose(1, 2))
            k = rope(l.k(y).view(b, t, self.nkv, self.hd).transpose(1, 2))
            v = l.v(y).view(b, t, self.nkv, self.hd).transpose(1, 2)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.nkv != self.nh)
            x = x + l.o(a.transpose(1, 2).reshape(b, t, -1))
            y = l.n2(x)
            x = x + l.down(F.silu(l.gate(y)) * l.up(y))
        x = self.norm(x)
        return x @ self.embed.weight.t() if self.head is None else self.head(x)


def build(c, device):
    try:
        from transformers import LlamaConfig, LlamaForCausalLM

        keys = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta", "rope_scaling",
                "max_position_embeddings", "tie_word_embeddings"]
        cfg = LlamaConfig(**{k: c[k] for k in keys if c.get(k) is not None})
        model = LlamaForCausalLM(cfg).to(device)
        return model, lambda ids: model(input_ids=ids).logits, "transformers"
    except ImportError:
        model = Llama(c).to(device)
        return model, model, "compact"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--pairs", type=int, default=1)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--response-tokens", type=int, default=512)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--peak-tflops", type=float)
    a = ap.parse_args()
    c = json.load(open(a.config))
    dev = torch.device(a.device)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model, forward, impl = build(c, dev)
    init_s = time.perf_counter() - t0
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-6, alpha=0.99, eps=1e-8)
    g = torch.Generator().manual_seed(7)
    p, r, v = a.prompt_tokens, a.response_tokens, c["vocab_size"]
    prompt = torch.randint(0, v, (a.pairs, p), generator=g)
    rows = torch.cat([torch.cat([prompt, torch.randint(0, v, (a.pairs, r), generator=g)], 1),
                      torch.cat([prompt, torch.randint(0, v, (a.pairs, r), generator=g)], 1)]).to(dev)

    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            logits = forward(rows)
        logps = torch.log_softmax(logits[:, p - 1 : -1].float(), -1)
        token = logps.gather(2, rows[:, p:].unsqueeze(-1)).squeeze(-1).sum(1)
        chosen, rejected = token[: a.pairs], token[a.pairs :]
        loss = -F.logsigmoid(0.1 * (chosen - rejected)).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    times, losses = [], []
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    for i in range(a.warmup + a.steps):
        t = time.perf_counter()
        loss = step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        if i >= a.warmup:
            times.append(time.perf_counter() - t)
            losses.append(loss)
    median = statistics.median(times)
    tokens = rows.numel()
    n = sum(x.numel() for x in model.parameters())
    h, layers = c["hidden_size"], c["num_hidden_layers"]
    emb = v * h
    norms = (2 * layers + 1) * h
    matmul = n - emb - norms + (emb if c.get("tie_word_embeddings") else 0)
    hd = c.get("head_dim") or h // c["num_attention_heads"]
    flops = tokens * (6 * matmul + 12 * layers * c["num_attention_heads"] * hd * (p + r))
    achieved = flops / median / 1e12
    print(json.dumps({
        "impl": impl, "torch": torch.__version__, "params": n, "precision": a.precision, "device": a.device,
        "rows": 2 * a.pairs, "tokens_per_row": p + r, "init_seconds": init_s, "step_seconds": times,
        "median_step_seconds": median, "tokens_per_second": tokens / median, "model_tflop_per_step": flops / 1e12,
        "achieved_tflops": achieved, "mfu": achieved / a.peak_tflops if a.peak_tflops else None, "losses": losses,
        "memory": {"device_peak_allocated_bytes": torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None,
                   "device_peak_reserved_bytes": torch.cuda.max_memory_reserved(dev) if dev.type == "cuda" else None},
    }, indent=1))


if __name__ == "__main__":
    main()
