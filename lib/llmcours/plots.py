"""The course's figures: attention maps, learning curves and decision boundaries.

- ``attention_heatmap`` draws a matrix of attention weights A = softmax(Q Kᵀ / √d_k): row i
  (a query token) gives how much token i looks at each key token j; each row sums to 1.
- ``learning_curves`` draws the loss (or a metric) per epoch on the training and validation
  sets, the picture that tells under-fitting from over-fitting.
- ``decision_boundary`` colours the plane (x₁, x₂) by the class f_θ predicts, with the data
  points on top.

Labels are in French; every function draws on ``ax`` (a new figure when ``None``) and returns
the Axes, so that a notebook can add to the figure before ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn

from ._checks import check_int

__all__ = ["attention_heatmap", "learning_curves", "decision_boundary"]


def _to_numpy(name: str, values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name} must be numeric (array or tensor), got {type(values).__name__}"
        ) from err


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def attention_heatmap(
    weights: Any,
    x_tokens: Sequence[str],
    y_tokens: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool | None = None,
) -> Axes:
    """Draw a (T_q, T_k) attention matrix: rows are queries (``y_tokens``), columns are keys.

    ``y_tokens`` defaults to ``x_tokens`` (self-attention). ``annotate`` writes each weight in
    its cell; by default only when the matrix is at most 10 × 10.
    """
    w = _to_numpy("weights", weights)
    if w.ndim != 2:
        raise ValueError(f"weights must be 2-D (T_q, T_k), got shape {tuple(w.shape)}")
    y_tokens = x_tokens if y_tokens is None else y_tokens
    if len(x_tokens) != w.shape[1]:
        raise ValueError(f"x_tokens has {len(x_tokens)} tokens, weights has {w.shape[1]} columns")
    if len(y_tokens) != w.shape[0]:
        raise ValueError(f"y_tokens has {len(y_tokens)} tokens, weights has {w.shape[0]} rows")
    ax = _axes(ax, (1.0 + 0.5 * w.shape[1], 0.8 + 0.45 * w.shape[0]))
    image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=max(1e-12, float(w.max())))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="poids")
    ax.set_xticks(range(len(x_tokens)), labels=list(x_tokens), rotation=45, ha="right")
    ax.set_yticks(range(len(y_tokens)), labels=list(y_tokens))
    ax.set_xlabel("clé (token regardé)")
    ax.set_ylabel("requête (token qui regarde)")
    ax.set_title(title if title is not None else "Poids d'attention")
    if annotate if annotate is not None else max(w.shape) <= 10:
        threshold = 0.6 * w.max()
        for i, j in np.ndindex(w.shape):
            colour = "black" if w[i, j] > threshold else "white"
            ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", color=colour, fontsize=8)
    return ax


def learning_curves(
    history_or_dict: Any, ax: Axes | None = None, metric: str = "loss", title: str | None = None
) -> Axes:
    """Plot each series of ``history_or_dict`` against the epoch (1, 2, ...).

    ``history_or_dict`` is a :class:`llmcours.train.History` (its ``metric`` curves on the
    training and validation sets, with the best epoch marked) or a mapping
    ``label -> list of values``, one line each.
    """
    from llmcours.train import History  # here: train imports plots lazily, and the reverse

    best = None
    if isinstance(history_or_dict, History):
        curves = history_or_dict.curves(metric)
        if metric == "loss" and history_or_dict.val_loss:
            best = history_or_dict.best_epoch
    elif isinstance(history_or_dict, Mapping):
        curves = dict(history_or_dict)
    else:
        raise ValueError(
            f"history_or_dict ({type(history_or_dict).__name__}) must be a History or a dict"
        )
    if not curves:
        raise ValueError("history_or_dict has no curve to draw")
    ax = _axes(ax, (6.0, 4.0))
    for label, values in curves.items():
        y = _to_numpy(f"history_or_dict[{label!r}]", values)
        if y.ndim != 1 or len(y) == 0:
            raise ValueError(f"history_or_dict[{label!r}] must be a non-empty 1-D sequence")
        ax.plot(np.arange(1, len(y) + 1), y, marker="o" if len(y) <= 30 else None, label=str(label))
    if best is not None:
        ax.axvline(best, color="grey", linestyle="--", label=f"meilleure époque ({best})")
    ax.set_xlabel("époque")
    ax.set_ylabel("perte" if metric == "loss" else metric)
    ax.set_title(title if title is not None else "Courbes d'apprentissage")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def _predict_labels(predict: Callable | nn.Module, grid: np.ndarray) -> np.ndarray:
    """Class labels predicted at each grid point (see ``decision_boundary``)."""
    if isinstance(predict, nn.Module):
        was_training = predict.training
        predict.eval()
        try:
            parameter = next(predict.parameters(), None)
            device = parameter.device if parameter is not None else "cpu"
            with torch.no_grad():
                out = predict(torch.as_tensor(grid, dtype=torch.float32, device=device))
        finally:
            predict.train(was_training)
        out = out.detach().cpu().numpy()
        if out.ndim == 2 and out.shape[1] > 1:
            return out.argmax(axis=1)
        return (out.reshape(len(grid)) > 0).astype(int)  # a single logit: class 1 when > 0
    out = _to_numpy("predict_fn_or_model output", predict(grid))
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return np.rint(out.reshape(len(grid))).astype(int)


def decision_boundary(
    predict_fn_or_model: Callable | nn.Module,
    X: Any,
    y: Any,
    ax: Axes | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Axes:
    """Colour the plane by predicted class and scatter the points ``X`` (N, 2) coloured by ``y``.

    ``predict_fn_or_model`` is a torch model returning logits (N, C) (argmax) or one logit
    per point (class 1 when > 0), or a function of a NumPy array (M, 2) returning labels (M,)
    or scores (M, C), like scikit-learn's ``predict``.
    """
    X = _to_numpy("X", X)
    y = _to_numpy("y", y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {tuple(X.shape)}")
    if y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},) like X, got {tuple(y.shape)}")
    resolution = check_int(resolution, "resolution", minimum=2)
    if not callable(predict_fn_or_model):
        raise ValueError("predict_fn_or_model must be a torch model or a function")
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-6
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    z = _predict_labels(predict_fn_or_model, grid).reshape(xx.shape)
    n_classes = int(max(z.max(), y.max())) + 1
    ax = _axes(ax, (5.0, 4.0))
    cmap = plt.get_cmap("coolwarm" if n_classes <= 2 else "tab10")
    ax.contourf(xx, yy, z, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.3)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=y,
        cmap=cmap,
        vmin=-0.5,
        vmax=n_classes - 0.5,
        s=15,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title if title is not None else "Frontière de décision")
    return ax
