"""Training: ``set_seed``, ``get_device`` and the training loop ``fit`` with its ``History``.

``fit`` minimises the empirical risk of the course's supervised objective,

    θ* = argmin_θ 1/N Σ_i L(f_θ(x_i), y_i),

by mini-batch gradient descent (Adam by default) with gradient clipping and an optional
learning-rate schedule, and records the train/validation loss and metrics of every epoch.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from torch import nn
from torch.optim.lr_scheduler import LambdaLR, LRScheduler
from tqdm.auto import tqdm

__all__ = ["set_seed", "get_device", "fit", "History"]


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
    rate at the end of the epoch; ``steps`` the number of optimiser steps taken in all.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    steps: int = 0

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
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model ({type(model).__name__}) must be a torch.nn.Module")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs ({epochs!r}) must be an integer >= 1")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps ({max_steps!r}) must be None or an integer >= 1")
    if not lr > 0:
        raise ValueError(f"lr ({lr}) must be > 0")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip ({grad_clip}) must be None or > 0")
    _check_loader("train_loader", train_loader)
    if val_loader is not None:
        _check_loader("val_loader", val_loader)
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not callable(fn) or name == "loss":
            raise ValueError(f"metrics[{name!r}] must be a callable fn(logits, y) not named 'loss'")
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if isinstance(schedule, LRScheduler):
        if schedule.optimizer is not optimizer:
            raise ValueError("schedule (a torch scheduler) must be built on the optimizer given")
        scheduler = schedule
    elif callable(schedule):
        scheduler = LambdaLR(optimizer, schedule)
    elif schedule is None:
        scheduler = None
    else:
        raise ValueError(f"schedule ({schedule!r}) must be None, a function or a torch scheduler")

    accelerator = Accelerator(cpu=device is not None and torch.device(device).type == "cpu")
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    if val_loader is not None:
        val_loader = accelerator.prepare(val_loader)
    if scheduler is not None:
        scheduler = accelerator.prepare(scheduler)

    history = History()
    total = len(train_loader) * epochs if isinstance(train_loader, Sized) else None
    if max_steps is not None:
        total = min(total, max_steps) if total is not None else max_steps
    quiet = not progress or not accelerator.is_local_main_process
    bar = tqdm(total=total, desc="entraînement", disable=quiet)
    for _epoch in range(epochs):
        model.train()
        running = _Running(list(metrics))
        norms = []
        for batch in train_loader:
            x, y = _split_batch(batch)
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            # clip_grad_norm_ returns the norm *before* clipping; inf = measure without clipping
            norm = accelerator.clip_grad_norm_(model.parameters(), grad_clip or float("inf"))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            with torch.no_grad():
                values = [fn(logits.detach(), y) for fn in metrics.values()]
            running.add(len(y), loss.detach(), values)
            norms.append(float(norm))
            history.steps += 1
            bar.update(1)
            bar.set_postfix(perte=f"{loss.item():.4f}")
            if max_steps is not None and history.steps >= max_steps:
                break
        if not norms:
            raise ValueError("train_loader is empty: it yields no batch")

        train = running.means(accelerator)
        history.train_loss.append(train.pop("loss"))
        for name, value in train.items():
            history.metrics.setdefault(f"train_{name}", []).append(value)
        if val_loader is not None:
            val = _evaluate(model, val_loader, loss_fn, metrics, accelerator)
            history.val_loss.append(val.pop("loss"))
            for name, value in val.items():
                history.metrics.setdefault(f"val_{name}", []).append(value)
            bar.set_postfix(perte=f"{history.train_loss[-1]:.4f}", val=f"{history.val_loss[-1]:.4f}")
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.grad_norm.append(float(np.mean(norms)))
        if max_steps is not None and history.steps >= max_steps:
            break
    bar.close()
    model.eval()
    return history
