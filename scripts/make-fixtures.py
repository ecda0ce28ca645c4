#!/usr/bin/env python3
"""Write the reference fixtures under tests/fixtures/ that tests/model_reference.rs compares against.

Needs torch, transformers, gguf, safetensors, accelerate (transformers wants it for GGUF files):
`python3 -m venv /work/venv && /work/venv/bin/pip install torch transformers gguf safetensors numpy accelerate`
(PyPI's default torch wheel, 2.15 with CUDA libraries, ~5.6 GB installed; it runs on CPU here).

    /work/venv/bin/python scripts/make-fixtures.py            # tiny models + SmolLM2 (if present)
    /work/venv/bin/python scripts/make-fixtures.py --no-smollm2

Outputs (a few MB in all):
  tests/fixtures/tiny-llama/         random-weight Llama as a Hugging Face dir (safetensors, f32),
                                     a 300-token byte-level BPE tokenizer.json and a ChatML template
  tests/fixtures/tiny-llama.json     its log-probs on a few sequences, greedy tokens, token ids,
                                     rendered chat prompts
  tests/fixtures/tiny-llama3/        the same with tied embeddings and llama3 rope scaling
  tests/fixtures/tiny-llama3.json
  tests/fixtures/quants.gguf         random 3x64 tensors in F32/F16/BF16/Q4_0/Q4_1/Q8_0 written by
  tests/fixtures/quants.json         the `gguf` package, with its own dequantized values
  tests/fixtures/smollm2.json        SmolLM2-135M-Instruct (GGUF via transformers' gguf_file=):
                                     token ids of tricky strings, dequantized weight samples,
                                     log-probs of a prompt/response, greedy generation
"""

import argparse
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

TRICKY = [
    "Hello world",
    " leading space",
    "  two leading spaces",
    "line one\nline two\n\nline four",
    "\ttab and trailing space ",
    "digits 12345 and 3.14159",
    "price: $1,299.99",
    "double space before digit:  12",
    "emoji 😀🎉 and accents café naïve",
    "def f(x):\n    return x**2  # square\n",
    "<|im_start|>user\nHi<|im_end|>",
    "日本語のテキスト",
    "",
]


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def seq_logprobs(model, ids):
    """Full log-softmax over the vocabulary at every position: [len, vocab]."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    return F.log_softmax(logits, dim=-1)


def token_logps(model, prompt_ids, response_ids):
    """log p(response token | prefix) for every response token."""
    ids = prompt_ids + response_ids
    lp = seq_logprobs(model, ids)
    out = []
    for i, t in enumerate(response_ids):
        pos = len(prompt_ids) + i - 1
        out.append(lp[pos, t].item())
    return out


def greedy(model, ids, n, eos):
    with torch.no_grad():
        out = model.generate(
            torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            max_new_tokens=n, do_sample=False, eos_token_id=eos, pad_token_id=eos[0],
        )
    return out[0, len(ids):].tolist()


def train_tiny_tokenizer(path):
    """A 300-token byte-level BPE with ChatML specials, trained on a fixed text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    text = [
        "The quick brown fox jumps over the lazy dog. " * 3,
        "What is the capital of France? The capital of France is Paris.",
        "Anchored preference optimization compares chosen and rejected answers.",
        "def add(a, b):\n    return a + b\n",
        "one two three four five six seven eight nine ten",
    ] * 20
    tok.train_from_iterator(text, trainer)
    tok.save(path)
    return tok


def make_tiny(name, tied, rope_scaling, seed):
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out_dir = os.path.join(FIX, name)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    tok_path = os.path.join(out_dir, "tokenizer.json")
    raw_tok = train_tiny_tokenizer(tok_path)
    vocab = raw_tok.get_vocab_size()
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rms_norm_eps=1e-5, rope_theta=10000.0 if rope_scaling is None else 500000.0,
        rope_scaling=rope_scaling, tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg).float().eval()
    # The default init (std 0.02) gives near-uniform outputs; larger weights make the
    # comparison sensitive to layout mistakes (a wrong rotary layout changes log-probs a lot).
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) * 0.15)
    model.save_pretrained(out_dir, safe_serialization=True)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_file=tok_path, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|endoftext|>",
    )
    hf_tok.chat_template = CHATML
    hf_tok.save_pretrained(out_dir)

    texts = ["The capital of France is Paris.", "def add(a, b):\n    return a + b", "12 + 30 = 42"]
    sequences = [hf_tok.encode(t, add_special_tokens=False) for t in texts]
    logprobs = [seq_logprobs(model, ids).tolist() for ids in sequences]
    prompt = "What is the capital of France?"
    prompt_text = hf_tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
    prompt_ids = hf_tok.encode(prompt_text, add_special_tokens=False)
    response = "Paris."
    response_ids = hf_tok.encode(response + "<|im_end|>", add_special_tokens=False)
    write_json(os.path.join(FIX, name + ".json"), {
        "source": "scripts/make-fixtures.py (transformers %s, torch %s)" % (__import__("transformers").__version__, torch.__version__),
        "texts": texts,
        "sequences": sequences,
        "logprobs": logprobs,
        "prompt": prompt,
        "prompt_text": prompt_text,
        "prompt_ids": prompt_ids,
        "response": response,
        "response_ids": response_ids,
        "response_logps": token_logps(model, prompt_ids, response_ids),
        "greedy_prompt_ids": sequences[0][:5],
        "greedy_tokens": greedy(model, sequences[0][:5], 12, [vocab + 1000]),
        "tokens": {t: hf_tok.encode(t, add_special_tokens=False) for t in TRICKY},
    })
    print("wrote", out_dir)


def make_quants():
    """Every supported ggml encoding, quantized and dequantized by the reference `gguf` package."""
    import gguf
    import numpy as np

    Q = gguf.GGMLQuantizationType
    rng = np.random.default_rng(0)
    path = os.path.join(FIX, "quants.gguf")
    w = gguf.GGUFWriter(path + ".tmp", "llama")
    w.add_uint32("test.answer", 42)
    w.add_array("test.list", ["a", "b"])
    expected = {}
    for name, qt in [("f32", Q.F32), ("f16", Q.F16), ("bf16", Q.BF16), ("q4_0", Q.Q4_0), ("q4_1", Q.Q4_1), ("q8_0", Q.Q8_0)]:
        x = rng.standard_normal((3, 64)).astype(np.float32)
        if qt == Q.F32:
            w.add_tensor(name, x)
            deq = x
        elif qt == Q.F16:
            w.add_tensor(name, x.astype(np.float16))
            deq = x.astype(np.float16).astype(np.float32)
        else:
            q = gguf.quants.quantize(x, qt)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qt)
            deq = gguf.quants.dequantize(q, qt)
        expected[name] = {"shape": list(deq.shape), "values": [float(v) for v in deq.flatten()]}
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(path + ".tmp", path)
    write_json(os.path.join(FIX, "quants.json"), expected)
    print("wrote", path)


def make_smollm2(gguf_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d, f = os.path.split(os.path.abspath(gguf_path))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    sd = model.state_dict()
    samples = {}
    for name in ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                 "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
                 "model.layers.29.mlp.down_proj.weight", "model.layers.3.input_layernorm.weight", "model.norm.weight"]:
        t = sd[name]
        rows = [0, 1, 32, 33, t.shape[0] - 1] if t.dim() == 2 else []
        samples[name] = {
            "shape": list(t.shape),
            "sum": t.double().sum().item(),
            "abs_sum": t.double().abs().sum().item(),
            "rows": {str(r): t[r, :8].tolist() for r in rows},
            "head": t.flatten()[:8].tolist(),
        }
    prompt = "What is the capital of France?"
    msgs = [{"role": "user", "content": prompt}]
    prompt_text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    prompt_ids = tok.encode(prompt_text, add_special_tokens=False)
    response = "The capital of France is Paris."
    response_ids = tok.encode(response + "<|im_end|>", add_special_tokens=False)
    raw_prompt = "The quick brown fox"
    raw_response = " jumps over the lazy dog."
    raw_prompt_ids = tok.encode(raw_prompt, add_special_tokens=False)
    raw_response_ids = tok.encode(raw_response, add_special_tokens=False)
    eos = [tok.convert_tokens_to_ids("<|im_end|>")]
    gen = greedy(model, prompt_ids, 40, eos)
    write_json(os.path.join(FIX, "smollm2.json"), {
        "source": "scripts/make-fixtures.py on %s (transformers %s, torch %s)" % (f, __import__("transformers").__version__, torch.__version__),
        "tokens": {t: tok.encode(t, add_special_tokens=False) for t in TRICKY},
        "weights": samples,
        "prompt": prompt,
        "prompt_text": prompt_text,
        "prompt_ids": prompt_ids,
        "response": response,
        "response_ids": response_ids,
        "response_logps": token_logps(model, prompt_ids, response_ids),
        "raw_prompt": raw_prompt,
        "raw_response": raw_response,
        "raw_prompt_ids": raw_prompt_ids,
        "raw_response_ids": raw_response_ids,
        "raw_response_logps": token_logps(model, raw_prompt_ids, raw_response_ids),
        "greedy_tokens": gen,
        "greedy_text": tok.decode(gen, skip_special_tokens=True),
    })
    print("wrote smollm2.json; greedy answer:", repr(tok.decode(gen, skip_special_tokens=True)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smollm2", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--no-smollm2", action="store_true")
    ap.add_argument("--no-tiny", action="store_true")
    args = ap.parse_args()
    os.makedirs(FIX, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    make_quants()
    if not args.no_tiny:
        make_tiny("tiny-llama", tied=False, rope_scaling=None, seed=1)
        make_tiny("tiny-llama3", tied=True, seed=2, rope_scaling={
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 32,
        })
    if not args.no_smollm2:
        if not os.path.exists(args.smollm2):
            sys.exit("missing %s: run scripts/get-smollm2.sh first (or pass --no-smollm2)" % args.smollm2)
        make_smollm2(args.smollm2)


if __name__ == "__main__":
    main()
