"""Tiny real models, made on the spot, for real inference engines (vLLM, llama.cpp) in tests.

Nothing can be downloaded here, so the weights are written by hand: a transformer whose attention
and feed-forward weights are zero, so the residual stream keeps a one-hot token embedding and the
output matrix alone decides the next token from the current one. That output matrix is a script:
after a FIM "middle" token the model writes ``COMPLETION`` and stops; after the chat template's
``<|assistant|>`` it writes ``EXPLANATION_LOOP`` over and over until ``max_tokens`` (something
to cancel). Every other token is followed by end-of-text. The engines run these models for real:
tokenizers, templates, sampling, streaming, stop tokens and aborts are theirs.

Run as ``python tiny_models.py starcoder2-hf DIR`` (needs numpy and safetensors, as vLLM has) or
``python tiny_models.py qwen-gguf FILE`` (needs numpy and gguf).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COMPLETION = ("return", " total_of", "(values)")
EXPLANATION_LOOP = ("The code", " adds up", " the values", " and")
SUCCESSOR_LOGIT = 30.0
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}<|assistant|>"
)

#: the FIM tokens each family's tokenizer has (the middle one starts the completion)
FAMILY_SPECIALS = {
    "starcoder2": ("<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>", "<file_sep>"),
    "qwen": ("<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|file_sep|>"),
}
CHAT_SPECIALS = ("<|system|>", "<|user|>", "<|assistant|>")
EOS = "<|endoftext|>"


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: every byte as a printable character."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


BYTE_CHARS = _byte_to_unicode()


def byte_level(text: str) -> str:
    return "".join(BYTE_CHARS[b] for b in text.encode())


@dataclass
class Vocabulary:
    tokens: list[str]  # byte-level spelling (what a tokenizer file holds)
    special: set[int]
    eos: int

    def id(self, text: str) -> int:
        return self.tokens.index(text if text in self.specials_text else byte_level(text))

    @property
    def specials_text(self) -> set[str]:
        return {self.tokens[i] for i in self.special}


def vocabulary(family: str) -> Vocabulary:
    tokens = [BYTE_CHARS[b] for b in range(256)]
    tokens += [byte_level(p) for p in ("  ", *COMPLETION, *EXPLANATION_LOOP)]
    first_special = len(tokens)
    tokens += [EOS, *FAMILY_SPECIALS[family], *CHAT_SPECIALS]
    if len(tokens) % 2:  # llama.cpp's rope needs an even width (the width is the vocabulary)
        tokens.insert(first_special, byte_level("   "))
        first_special += 1
    return Vocabulary(tokens, set(range(first_special, len(tokens))), first_special)


def script(vocab: Vocabulary, family: str) -> dict[int, int]:
    """Next token by current token: the chains above; everything else ends the text."""
    chains = [
        [FAMILY_SPECIALS[family][1], *COMPLETION, EOS],
        ["<|assistant|>", *EXPLANATION_LOOP, EXPLANATION_LOOP[1]],
    ]
    successor = {i: vocab.eos for i in range(len(vocab.tokens))}
    for chain in chains:
        for current, following in zip(chain, chain[1:], strict=False):
            successor[vocab.id(current)] = vocab.id(following)
    return successor


def target_logits(vocab: Vocabulary, family: str, size: int) -> np.ndarray:
    """``[next, current]`` logits for ``size`` token ids (ids past the vocabulary: padding)."""
    logits = np.zeros((size, size), dtype=np.float32)
    for current, following in script(vocab, family).items():
        logits[following, current] = SUCCESSOR_LOGIT
    logits[len(vocab.tokens) :, :] = -SUCCESSOR_LOGIT  # padding is never written
    return logits


# -- vLLM: a StarCoder2 checkpoint in Hugging Face format ---------------------------------------


def write_starcoder2_hf(directory: Path) -> None:
    """StarCoder2 uses LayerNorm, which subtracts the mean: one extra "ballast" dimension,
    zero in every embedding, lets the output matrix cancel that mean exactly."""
    from safetensors.numpy import save_file

    family = "starcoder2"
    vocab = vocabulary(family)
    hidden, heads, ffn = 512, 8, 64
    size = hidden - 1  # token ids; the last hidden dimension is the ballast
    target = target_logits(vocab, family, size)
    eps = 1e-5
    sigma = math.sqrt((1 / hidden) * (1 - 1 / hidden) + eps)
    lm_head = np.zeros((size, hidden), dtype=np.float32)
    lm_head[:, :size] = sigma * target
    lm_head[:, size] = -sigma * target.sum(axis=1)
    embed = np.zeros((size, hidden), dtype=np.float32)
    embed[np.arange(size), np.arange(size)] = 1.0

    def zeros(*shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    layer = "model.layers.0."
    tensors = {
        "model.embed_tokens.weight": embed,
        "model.norm.weight": ones(hidden),
        "model.norm.bias": zeros(hidden),
        "lm_head.weight": lm_head,
        layer + "input_layernorm.weight": ones(hidden),
        layer + "input_layernorm.bias": zeros(hidden),
        layer + "post_attention_layernorm.weight": ones(hidden),
        layer + "post_attention_layernorm.bias": zeros(hidden),
        layer + "mlp.c_fc.weight": zeros(ffn, hidden),
        layer + "mlp.c_fc.bias": zeros(ffn),
        layer + "mlp.c_proj.weight": zeros(hidden, ffn),
        layer + "mlp.c_proj.bias": zeros(hidden),
    }
    for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
        tensors[f"{layer}self_attn.{name}.weight"] = zeros(hidden, hidden)
        tensors[f"{layer}self_attn.{name}.bias"] = zeros(hidden)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(directory / "model.safetensors"))
    config = {
        "architectures": ["Starcoder2ForCausalLM"],
        "model_type": "starcoder2",
        "vocab_size": size,
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "num_hidden_layers": 1,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "max_position_embeddings": 4096,
        "rope_theta": 10000.0,
        "norm_epsilon": eps,
        "use_bias": True,
        "hidden_act": "gelu_pytorch_tanh",
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "bos_token_id": vocab.eos,
        "eos_token_id": vocab.eos,
        "sliding_window": None,
        "residual_dropout": 0.0,
        "embedding_dropout": 0.0,
        "attention_dropout": 0.0,
    }
    (directory / "config.json").write_text(json.dumps(config, indent=1))
    (directory / "generation_config.json").write_text(json.dumps({"eos_token_id": vocab.eos}))
    _write_hf_tokenizer(directory, vocab)


def _write_hf_tokenizer(directory: Path, vocab: Vocabulary) -> None:
    added = [
        {
            "id": i,
            "content": vocab.tokens[i],
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i in sorted(vocab.special)
    ]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": True,
            "use_regex": True,
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": {token: i for i, token in enumerate(vocab.tokens)},
            "merges": [],
        },
    }
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))
    eos = vocab.tokens[vocab.eos]
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": eos,
        "eos_token": eos,
        "unk_token": eos,
        "model_max_length": 4096,
        "chat_template": CHAT_TEMPLATE,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=1))


# -- llama.cpp: a Qwen2.5-Coder-like GGUF ---------------------------------------------------------


def write_qwen_gguf(path: Path) -> None:
    """A ``llama`` network: RMS norm scales the one-hot embedding by sqrt(width)."""
    import gguf

    family = "qwen"
    vocab = vocabulary(family)
    size = len(vocab.tokens)
    ffn = 64
    output = target_logits(vocab, family, size) / math.sqrt(size)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(4096)
    writer.add_embedding_length(size)
    writer.add_block_count(1)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(1)
    writer.add_head_count_kv(1)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_dimension_count(size)
    writer.add_vocab_size(size)
    writer.add_file_type(0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(vocab.tokens)
    writer.add_token_types([3 if i in vocab.special else 1 for i in range(size)])
    # llama.cpp insists on merges: one, whose result is in the vocabulary
    writer.add_token_merges([f"{BYTE_CHARS[32]} {BYTE_CHARS[32]}"])
    writer.add_bos_token_id(vocab.eos)
    writer.add_eos_token_id(vocab.eos)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    def zeros(*shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    writer.add_tensor("token_embd.weight", np.eye(size, dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(size, dtype=np.float32))
    writer.add_tensor("output.weight", output.astype(np.float32))
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(size, dtype=np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        writer.add_tensor(f"blk.0.{name}.weight", zeros(size, size))
    writer.add_tensor("blk.0.ffn_norm.weight", np.ones(size, dtype=np.float32))
    writer.add_tensor("blk.0.ffn_gate.weight", zeros(ffn, size))
    writer.add_tensor("blk.0.ffn_up.weight", zeros(ffn, size))
    writer.add_tensor("blk.0.ffn_down.weight", zeros(size, ffn))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    kind, target = sys.argv[1], Path(sys.argv[2])
    {"starcoder2-hf": write_starcoder2_hf, "qwen-gguf": write_qwen_gguf}[kind](target)
