"""Training: ``set_seed``, ``get_device``, ``mixed_precision_for`` and the training loop ``fit``
with its ``History``.

``fit`` minimises the empirical risk of the course's supervised objective,

    θ* = argmin_θ 1/N Σ_i L(f_θ(x_i), y_i),

by mini-batch gradient descent (Adam by default) with gradient clipping and an optional
learning-rate schedule, and records the train/validation loss and metrics of every epoch.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, PartialState
from torch import nn
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

from llmcours._checks import check_callable
from llmcours.notebook import fr
from llmcours.notebook import progress as progress_bar

__all__ = ["set_seed", "get_device", "mixed_precision_for", "fit", "train_step", "History"]


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so that a rerun gives the same numbers."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed ({seed!r}) must be a non-negative integer")
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_device() -> torch.device:
    """Return ``cuda`` when a GPU is visible, else ``cpu`` (the CI configuration)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mixed_precision_for(device: str | torch.device) -> str:
    """The ``mixed_precision`` argument of :func:`fit` that suits ``device``.

    - ``"bf16"`` on a GPU with native bfloat16 (compute capability 8 or more: A100, L4, H100):
      8 exponent bits, the range of float32, so no loss scaling is needed;
    - ``"fp16"`` on an older GPU (T4, V100: no bfloat16 units; torch only *emulates* it,
      slowly): float16 autocast, whose 5 exponent bits underflow small gradients, so ``fit``'s
      accelerator multiplies the loss by a scale before ``backward`` and divides the gradients
      by it before clipping and the step, skipping a step whose gradients overflowed
      (``torch.amp.GradScaler``);
    - ``"no"`` (float32) on the CPU.
    """
    if isinstance(device, str):
        try:
            device = torch.device(device)
        except RuntimeError as err:
            raise ValueError(f"device ({device!r}) must name a torch device, e.g. 'cpu' or 'cuda'") from err
    if not isinstance(device, torch.device):
        raise ValueError(f"device ({device!r}) must be a torch.device or its name")
    if device.type != "cuda":
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp16"


# --------------------------------------------------------------------------------------------
# The training loop: fit(model, train_loader, ...) -> History
#
# One optimisation step on a mini-batch B of (x, y) pairs minimises the empirical risk
#     L(θ) = 1/|B| Σ_{(x, y) ∈ B} loss_fn(f_θ(x), y)
# with θ ← θ − η_t · g, where g = ∇_θ L is first clipped to ||g||₂ ≤ grad_clip and
# η_t = lr · schedule(t). The loop goes through `accelerate.Accelerator`, so the same code runs
# on the CPU, on one GPU, or on several under `accelerate launch`.
# --------------------------------------------------------------------------------------------

Batch = tuple[torch.Tensor, torch.Tensor]
Metric = Callable[[torch.Tensor, torch.Tensor], Any]


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (index 0 is epoch 1).

    ``metrics`` holds ``"train_<name>"`` and ``"val_<name>"`` lists for each metric given to
    :func:`fit`; ``grad_norm`` is the mean gradient norm *before* clipping; ``lr`` the learning
    rate at the end of the epoch; ``steps`` the number of optimiser steps taken in all;
    ``train_seconds`` the wall-clock time of the training steps (evaluation left out).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    steps: int = 0
    train_seconds: float = 0.0

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)

    @property
    def best_epoch(self) -> int:
        """The epoch (counted from 1) with the lowest validation loss, else training loss."""
        losses = self.val_loss or self.train_loss
        if not losses:
            raise ValueError("history is empty: fit() recorded no epoch")
        return int(np.argmin(losses)) + 1

    def curves(self, metric: str = "loss") -> dict[str, list[float]]:
        """The train/validation series of ``metric`` (``"loss"`` or a metric name), in French."""
        if metric == "loss":
            train, val = self.train_loss, self.val_loss
        else:
            train = self.metrics.get(f"train_{metric}", [])
            val = self.metrics.get(f"val_{metric}", [])
            if not train and not val:
                known = sorted({k.split("_", 1)[1] for k in self.metrics})
                raise ValueError(f"metric ({metric!r}) was not recorded; expected one of {known}")
        curves = {"entraînement": train}
        if val:
            curves["validation"] = val
        return curves

    def plot(self, metric: str = "loss", ax: Any = None) -> Any:
        """Draw the learning curves with :func:`llmcours.plots.learning_curves`; return the Axes."""
        from llmcours.plots import learning_curves

        return learning_curves(self, ax=ax, metric=metric)

    def to_dataframe(self) -> Any:
        """One row per epoch (``epoch``, ``train_loss``, ``val_loss``, metrics, ``lr``...)."""
        import pandas as pd

        columns: dict[str, list[float]] = {"train_loss": self.train_loss}
        if self.val_loss:
            columns["val_loss"] = self.val_loss
        columns.update(self.metrics)
        columns.update(lr=self.lr, grad_norm=self.grad_norm)
        frame = pd.DataFrame(columns)
        frame.insert(0, "epoch", range(1, len(frame) + 1))
        return frame


class _Running:
    """Batch-size-weighted sums of the loss and the metrics over one epoch."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.sums = torch.zeros(len(names) + 2, dtype=torch.float64)  # [n, loss, *metrics]

    def add(self, n: int, loss: torch.Tensor, values: list[Any]) -> None:
        """Add a batch of ``n`` examples with its mean loss and metric values."""
        batch = [float(n), float(loss) * n] + [float(v) * n for v in values]
        self.sums += torch.tensor(batch, dtype=torch.float64)

    def means(self, accelerator: Accelerator | None = None) -> dict[str, float]:
        """Epoch means (over every process when ``accelerator`` is given)."""
        sums = self.sums
        if accelerator is not None:  # add up the sums of every process
            sums = accelerator.reduce(sums.to(accelerator.device), "sum").cpu()
        n = sums[0].item()
        return {name: (s / n).item() for name, s in zip(["loss", *self.names], sums[1:], strict=True)}


def _split_batch(batch: Any) -> Batch:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(f"each batch must be a pair (x, y), got {type(batch).__name__}")


def _evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable,
    metrics: dict[str, Metric],
    accelerator: Accelerator,
) -> dict[str, float]:
    """Mean loss and metrics over ``loader``, without gradients, in eval mode (no dropout)."""
    model.eval()
    running = _Running(list(metrics))
    with torch.no_grad():
        for batch in loader:
            x, y = _split_batch(batch)
            # gather the predictions of every process, without the duplicated last samples
            logits, y = accelerator.gather_for_metrics((model(x), y))
            values = [fn(logits, y) for fn in metrics.values()]
            running.add(len(y), loss_fn(logits, y), values)
    return running.means()


def _check_loader(name: str, loader: Any) -> None:
    if not isinstance(loader, Iterable):
        raise ValueError(f"{name} ({type(loader).__name__}) must be an iterable of (x, y) batches")
    if isinstance(loader, Sized) and len(loader) == 0:
        raise ValueError(f"{name} is empty: it yields no batch")


MIXED_PRECISIONS = ("no", "bf16", "fp16")


def _check_fit(
    model: Any, train_loader: Any, val_loader: Any, optimizer: Any, lr: Any, epochs: Any,
    max_steps: Any, grad_clip: Any, metrics: dict[str, Any], mixed_precision: Any,
) -> None:
    """Every argument of :func:`fit`, checked before any work, with a message naming it."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model ({type(model).__name__}) must be a torch.nn.Module")
    _check_loader("train_loader", train_loader)
    if val_loader is not None:
        _check_loader("val_loader", val_loader)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(
            f"optimizer ({optimizer!r}) must be None (Adam) or a torch.optim.Optimizer built on "
            "the model's parameters, e.g. torch.optim.AdamW(model.parameters(), lr=1e-3)"
        )
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs ({epochs!r}) must be an integer >= 1")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps ({max_steps!r}) must be None or an integer >= 1")
    if not isinstance(lr, Real) or not 0 < lr < math.inf:
        raise ValueError(f"lr ({lr!r}) must be a finite number > 0")
    if grad_clip is not None and (not isinstance(grad_clip, Real) or not grad_clip > 0):
        raise ValueError(f"grad_clip ({grad_clip!r}) must be None or a number > 0")
    for name, fn in metrics.items():
        if not callable(fn) or name == "loss":
            raise ValueError(f"metrics[{name!r}] must be a callable fn(logits, y) not named 'loss'")
    if mixed_precision not in MIXED_PRECISIONS:
        raise ValueError(f"mixed_precision ({mixed_precision!r}) must be one of {MIXED_PRECISIONS}")


def _make_scheduler(schedule: Any, optimizer: torch.optim.Optimizer) -> LRScheduler | None:
    """``schedule`` as a torch scheduler on ``optimizer`` (a function becomes a ``LambdaLR``)."""
    if isinstance(schedule, LRScheduler):
        if schedule.optimizer is not optimizer:
            raise ValueError("schedule (a torch scheduler) must be built on the optimizer given")
        return schedule
    if callable(schedule):
        return LambdaLR(optimizer, schedule)
    if schedule is None:
        return None
    raise ValueError(f"schedule ({schedule!r}) must be None, a function or a torch scheduler")


def _accelerator(device: str | torch.device | None, mixed_precision: str) -> Accelerator:
    """An ``Accelerator`` for this call of :func:`fit`.

    accelerate keeps one global state per process and refuses a second ``Accelerator`` with
    another precision or device; in a single process (a notebook that trains twice) we then
    reset it, under ``accelerate launch`` (several processes) the error stands.
    """
    cpu = device is not None and torch.device(device).type == "cpu"
    try:
        return Accelerator(cpu=cpu, mixed_precision=mixed_precision)
    except ValueError as err:  # "AcceleratorState has already been initialized ..."
        if "already been initialized" not in str(err) or PartialState().num_processes != 1:
            raise
        AcceleratorState._reset_state()
        return Accelerator(cpu=cpu, mixed_precision=mixed_precision)


def _total_steps(train_loader: Iterable, epochs: int, max_steps: int | None) -> int | None:
    total = len(train_loader) * epochs if isinstance(train_loader, Sized) else None
    if max_steps is not None:
        total = min(total, max_steps) if total is not None else max_steps
    return total


def fit(
    model: nn.Module,
    train_loader: Iterable,
    *,
    val_loader: Iterable | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    epochs: int = 10,
    max_steps: int | None = None,
    schedule: Callable[[int], float] | LRScheduler | None = None,
    grad_clip: float | None = 1.0,
    metrics: dict[str, Metric] | None = None,
    device: str | torch.device | None = None,
    mixed_precision: str = "no",
    progress: bool = True,
) -> History:
    """Train ``model`` in place on ``(x, y)`` batches and return its :class:`History`.

    ``model(x)`` returns logits and ``loss_fn(logits, y)`` a scalar (default: cross-entropy).
    ``optimizer`` defaults to ``Adam(model.parameters(), lr)``. ``schedule`` is either a
    function ``step -> factor`` multiplying the learning rate (``LambdaLR``) or a torch
    scheduler built on ``optimizer``; it steps after every optimiser step. ``grad_clip`` is
    the maximum L2 norm of the gradient (``None``: no clipping). Training stops after
    ``epochs`` epochs or ``max_steps`` optimiser steps, whichever comes first. ``metrics``
    maps a name to ``fn(logits, y) -> number``, averaged over each epoch (weighted by batch
    size). ``device="cpu"`` forces the CPU; by default accelerate picks the GPU if there is one.
    ``mixed_precision="bf16"`` runs the forward passes under bfloat16 autocast (on a GPU that
    has it; weights, gradients and the optimiser stay float32); ``"fp16"`` under float16
    autocast with loss scaling (on a GPU; a no-op on the CPU); the default ``"no"`` is float32.
    :func:`mixed_precision_for` picks the right one for a device.
    The progress bar is the course's :func:`llmcours.notebook.progress` (``progress=False``: none).
    """
    metrics = dict(metrics or {})
    _check_fit(model, train_loader, val_loader, optimizer, lr, epochs, max_steps, grad_clip,
               metrics, mixed_precision)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else check_callable(loss_fn, "loss_fn")
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = _make_scheduler(schedule, optimizer)
    accelerator = _accelerator(device, mixed_precision)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    if val_loader is not None:
        val_loader = accelerator.prepare(val_loader)
    if scheduler is not None:
        scheduler = accelerator.prepare(scheduler)

    history = History()
    quiet = not progress or not accelerator.is_local_main_process
    bar = progress_bar(total=_total_steps(train_loader, epochs, max_steps), desc="entraînement",
                       disable=quiet)
    for _epoch in range(epochs):
        model.train()
        running, norms, start = _Running(list(metrics)), [], time.perf_counter()
        for batch in train_loader:
            x, y = _split_batch(batch)
            logits, loss, norm = train_step(model, x, y, loss_fn, optimizer, accelerator,
                                            grad_clip, scheduler)
            with torch.no_grad():
                values = [fn(logits.detach(), y) for fn in metrics.values()]
            running.add(len(y), loss.detach(), values)
            norms.append(float(norm))
            history.steps += 1
            bar.update(1)
            bar.set_postfix(perte=fr(loss.item(), 4))  # the bar is read: French decimals
            if max_steps is not None and history.steps >= max_steps:
                break
        if not norms:
            raise ValueError("train_loader is empty: it yields no batch")
        history.train_seconds += time.perf_counter() - start

        _record(history, "train", running.means(accelerator))
        if val_loader is not None:
            _record(history, "val", _evaluate(model, val_loader, loss_fn, metrics, accelerator))
            bar.set_postfix(perte=fr(history.train_loss[-1], 4), val=fr(history.val_loss[-1], 4))
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.grad_norm.append(float(np.mean(norms)))
        if max_steps is not None and history.steps >= max_steps:
            break
    bar.close()
    model.eval()
    return history


def train_step(
    model: nn.Module,
    x: Any,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    accelerator: Accelerator,
    grad_clip: float | None = None,
    scheduler: LRScheduler | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One optimiser step of :func:`fit` on the mini-batch ``(x, y)``: the four gestes of the
    hand-written loop (forward, loss, backward, step) plus clipping and the schedule.

    Returns the logits, the loss and the gradient norm measured before clipping.
    """
    logits = model(x)  # forward
    loss = loss_fn(logits, y)  # L(θ) on the mini-batch
    optimizer.zero_grad(set_to_none=True)
    accelerator.backward(loss)  # g = ∇_θ L
    # g ← g · min(1, grad_clip / ||g||); returns ||g|| *before* clipping (inf: no clipping)
    norm = accelerator.clip_grad_norm_(model.parameters(), grad_clip or float("inf"))
    optimizer.step()  # θ ← θ − η_t · update(g)
    if scheduler is not None:
        scheduler.step()  # η_t → η_{t+1}
    return logits, loss, norm


def _record(history: History, split: str, means: dict[str, float]) -> None:
    """Append one epoch's mean loss and metrics of ``split`` ("train" or "val") to ``history``."""
    getattr(history, f"{split}_loss").append(means.pop("loss"))
    for name, value in means.items():
        history.metrics.setdefault(f"{split}_{name}", []).append(value)
