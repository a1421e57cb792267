"""Tests of llmcours.plots: what each figure draws, and the errors on bad shapes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from llmcours.plots import attention_heatmap, decision_boundary, learning_curves  # noqa: E402
from llmcours.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_attention_heatmap_draws_the_matrix_with_token_labels():
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    ax = attention_heatmap(weights, ["Paris", "est", "la", "capitale"], ["q1", "q2", "q3"])
    image = ax.images[0].get_array()
    assert image.shape == (3, 4)
    np.testing.assert_allclose(np.asarray(image), weights.numpy(), rtol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Paris", "est", "la", "capitale"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["q1", "q2", "q3"]
    assert ax.get_xlabel() == "clé (token regardé)" and ax.get_title() == "Poids d'attention"
    assert len(ax.texts) == 12, "each weight of a small matrix is written in its cell"
    assert ax.texts[1].get_text() == f"{weights[0, 1].item():.2f}"


def test_attention_heatmap_self_attention_and_options():
    fig, ax = plt.subplots()
    out = attention_heatmap(np.eye(12), list("abcdefghijkl"), ax=ax, title="Tête 0")
    assert out is ax and ax.get_title() == "Tête 0"
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abcdefghijkl")
    assert len(ax.texts) == 0, "a large matrix is not annotated by default"


@pytest.mark.parametrize(
    ("weights", "x_tokens", "y_tokens", "match"),
    [
        (np.ones((2, 3, 3)), ["a", "b", "c"], None, "2-D"),
        (np.ones((3, 3)), ["a", "b"], None, "x_tokens"),
        (np.ones((2, 3)), ["a", "b", "c"], None, "y_tokens"),
        (np.ones((2, 3)), ["a", "b", "c"], ["a"], "y_tokens"),
    ],
)
def test_attention_heatmap_bad_shapes(weights, x_tokens, y_tokens, match):
    with pytest.raises(ValueError, match=match):
        attention_heatmap(weights, x_tokens, y_tokens)


def test_learning_curves_from_a_history():
    history = History(train_loss=[1.0, 0.6, 0.4], val_loss=[1.1, 0.7, 0.8])
    ax = learning_curves(history)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["entraînement", "validation", "meilleure époque (2)"]
    np.testing.assert_array_equal(lines["entraînement"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["validation"].get_ydata(), [1.1, 0.7, 0.8])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("époque", "perte")
    ax = history.plot()  # History.plot goes through learning_curves
    assert [line.get_label() for line in ax.get_lines()][:2] == ["entraînement", "validation"]


def test_learning_curves_from_a_dict_and_metric():
    ax = learning_curves({"n = 100": [0.5, 0.4], "n = 1000": [0.3, 0.2]}, title="Taille")
    assert [line.get_label() for line in ax.get_lines()] == ["n = 100", "n = 1000"]
    assert ax.get_title() == "Taille"
    history = History(train_loss=[1.0], metrics={"train_acc": [0.5], "val_acc": [0.6]})
    ax = learning_curves(history, metric="acc")
    assert ax.get_ylabel() == "acc" and len(ax.get_lines()) == 2


@pytest.mark.parametrize(
    ("value", "match"),
    [({}, "no curve"), ({"a": []}, "non-empty"), ({"a": [[1, 2]]}, "1-D"), ([1, 2], "History")],
)
def test_learning_curves_bad_input(value, match):
    with pytest.raises(ValueError, match=match):
        learning_curves(value)


def two_blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, (50, 2)), rng.normal(2, 0.5, (50, 2))])
    return X, np.repeat([0, 1], 50)


def test_decision_boundary_with_a_function():
    X, y = two_blobs()
    rule = lambda grid: (grid[:, 0] > 0).astype(int)  # noqa: E731
    ax = decision_boundary(rule, X, y, resolution=np.int64(50))  # numpy integers are integers
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    assert ax.get_title() == "Frontière de décision"
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_array_equal(np.asarray(offsets), X)  # every point is drawn
    xmin, xmax = ax.get_xlim()
    assert xmin <= X[:, 0].min() and xmax >= X[:, 0].max()


def test_decision_boundary_with_models_matches_the_rule():
    """A model whose logits say 'class 1 iff x₁ > 0' must colour the grid that way."""
    X, y = two_blobs()
    two_logits = nn.Linear(2, 2)
    one_logit = nn.Linear(2, 1)
    with torch.no_grad():
        two_logits.weight.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
        two_logits.bias.zero_()
        one_logit.weight.copy_(torch.tensor([[1.0, 0.0]]))
        one_logit.bias.zero_()
    for model in (two_logits, one_logit):
        model.train()
        ax = decision_boundary(model, X, y, resolution=40)
        assert model.training, "the model's mode must be restored"
        contour = ax.collections[0]
        assert len(contour.get_paths()) >= 2, "both classes must be coloured"
        plt.close("all")


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "match"),
    [
        (np.zeros((10, 3)), np.zeros(10), {}, "X must have shape"),
        (np.zeros(10), np.zeros(10), {}, "X must have shape"),
        (np.zeros((10, 2)), np.zeros(9), {}, "y must have shape"),
        (np.zeros((10, 2)), np.zeros(10), {"resolution": 1}, "resolution"),
        (np.zeros((10, 2)), np.zeros(10), {"resolution": 20.0}, r"resolution \(20.0\) must be an int"),
    ],
)
def test_decision_boundary_bad_input(X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        decision_boundary(lambda grid: np.zeros(len(grid)), X, y, **kwargs)
