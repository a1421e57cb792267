"""Tests of llmcours.train.fit and History (the set_seed/get_device tests live with them)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from llmcours.train import History, fit, mixed_precision_for, set_seed


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=-1) == y).float().mean()


def separable_data(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes split by the line x₁ + x₂ = 0, with a margin."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    X = X + 0.5 * torch.sign(X.sum(dim=1, keepdim=True))  # push points away from the boundary
    y = (X.sum(dim=1) > 0).long()
    return X, y


def make_loader(X, y, batch_size=32, shuffle=True) -> DataLoader:
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle)


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))


def run(seed: int = 0, **kwargs) -> History:
    set_seed(seed)
    X, y = separable_data()
    return fit(mlp(), make_loader(X, y), epochs=5, lr=1e-2, device="cpu", progress=False, **kwargs)


def test_fit_decreases_the_loss_deterministically():
    first, second = run(), run()
    assert first.train_loss == second.train_loss, "same seed, different losses"
    assert first.train_loss[-1] < 0.3 * first.train_loss[0], f"loss did not fall: {first.train_loss}"
    assert first.epochs == 5 and first.steps == 5 * 8
    assert run(seed=1).train_loss != first.train_loss, "the seed has no effect"


def test_val_loss_and_metrics_match_a_direct_evaluation():
    set_seed(0)
    X, y = separable_data()
    Xv, yv = separable_data(100, seed=1)
    model = mlp()
    history = fit(
        model,
        make_loader(X, y),
        val_loader=make_loader(Xv, yv, batch_size=30, shuffle=False),  # last batch smaller
        epochs=3,
        lr=1e-2,
        metrics={"acc": accuracy},
        device="cpu",
        progress=False,
    )
    assert sorted(history.metrics) == ["train_acc", "val_acc"]
    assert all(len(v) == 3 for v in [history.val_loss, *history.metrics.values()])
    with torch.no_grad():
        logits = model(Xv)
    expected_loss = nn.functional.cross_entropy(logits, yv).item()
    assert history.val_loss[-1] == pytest.approx(expected_loss, rel=1e-5), "val loss differs"
    assert history.metrics["val_acc"][-1] == pytest.approx(accuracy(logits, yv).item(), abs=1e-9)
    assert history.best_epoch == min(range(1, 4), key=lambda e: history.val_loss[e - 1])
    assert 0.9 < history.metrics["train_acc"][-1] <= 1.0


@pytest.mark.parametrize("clip", [0.01, 0.05])
def test_grad_clip_bounds_the_update(clip):
    """One SGD step with lr = 1 moves θ by the clipped gradient: its norm must be `clip`."""
    set_seed(0)
    X, y = separable_data(64)
    model = mlp()
    reference = copy.deepcopy(model)
    nn.functional.cross_entropy(reference(X), y).backward()
    grad = torch.cat([p.grad.flatten() for p in reference.parameters()])
    assert grad.norm() > 10 * clip, "the test needs a gradient larger than the clip"

    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = make_loader(X, y, batch_size=64, shuffle=False)
    history = fit(model, loader, optimizer=optimizer, grad_clip=clip, max_steps=1,
                  device="cpu", progress=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    step = before - after
    assert step.norm().item() == pytest.approx(clip, rel=1e-5), "update norm is not the clip"
    torch.testing.assert_close(step, grad * clip / grad.norm(), rtol=1e-4, atol=1e-7)
    assert history.grad_norm[0] == pytest.approx(grad.norm().item(), rel=1e-5)


def test_no_clipping_gives_the_plain_gradient_step():
    set_seed(0)
    X, y = separable_data(64)
    model = mlp()
    reference = copy.deepcopy(model)
    nn.functional.cross_entropy(reference(X), y).backward()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, make_loader(X, y, batch_size=64, shuffle=False), optimizer=optimizer,
        grad_clip=None, max_steps=1, device="cpu", progress=False)
    for p, r in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), r.detach() - 0.1 * r.grad)


def test_max_steps_stops_inside_an_epoch():
    history = run(max_steps=3)
    assert history.steps == 3 and history.epochs == 1


def test_schedules_set_the_learning_rate():
    history = run(schedule=lambda step: 0.5 ** step)  # after 8 steps: lr · 2⁻⁸
    assert history.lr[0] == pytest.approx(1e-2 * 0.5**8)
    set_seed(0)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=8, gamma=0.1)
    X, y = separable_data()
    history = fit(model, make_loader(X, y), optimizer=optimizer, schedule=scheduler, epochs=2,
                  device="cpu", progress=False)
    assert history.lr == pytest.approx([0.01, 0.001])


def test_custom_loss_regression():
    set_seed(0)
    X = torch.randn(200, 3)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    model = nn.Linear(3, 1)
    history = fit(model, make_loader(X, y), loss_fn=nn.MSELoss(), lr=0.05, epochs=30,
                  device="cpu", progress=False)
    assert history.train_loss[-1] < 1e-3, f"linear regression not learnt: {history.train_loss[-1]}"
    torch.testing.assert_close(model.weight.detach(), torch.tensor([[1.0, -2.0, 0.5]]), atol=0.02, rtol=0)


def test_history_to_dataframe_and_curves():
    history = run(metrics={"acc": accuracy})
    frame = history.to_dataframe()
    assert list(frame.columns) == ["epoch", "train_loss", "train_acc", "lr", "grad_norm"]
    assert frame["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert list(history.curves("acc")) == ["entraînement"]
    with pytest.raises(ValueError, match="metric"):
        history.curves("f1")
    with pytest.raises(ValueError, match="empty"):
        History().best_epoch  # noqa: B018


def _loader():
    X, y = separable_data(32)
    return make_loader(X, y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(epochs=0), "epochs"),
        (dict(epochs=1.5), "epochs"),
        (dict(max_steps=0), "max_steps"),
        (dict(lr=0.0), "lr"),
        (dict(grad_clip=0.0), "grad_clip"),
        (dict(metrics={"acc": 1.0}), "metrics"),
        (dict(metrics={"loss": accuracy}), "metrics"),
        (dict(schedule="cosine"), "schedule"),
        (dict(optimizer="adam"), "optimizer"),
        (dict(optimizer=torch.optim.Adam), "optimizer"),
        (dict(lr=float("nan")), "lr"),
        (dict(lr="1e-3"), "lr"),
        (dict(grad_clip=float("nan")), "grad_clip"),
        (dict(epochs=True), "epochs"),
        (dict(mixed_precision="bfloat16"), "mixed_precision"),
        (dict(mixed_precision=None), "mixed_precision"),
        (dict(val_loader=DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0))),), "val_loader"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(mlp(), _loader(), device="cpu", progress=False, **kwargs)


def test_bad_inputs_raise():
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="train_loader is empty"):
        fit(mlp(), empty, device="cpu", progress=False)
    with pytest.raises(ValueError, match="train_loader is empty"):
        fit(mlp(), iter([]), device="cpu", progress=False)  # no len(): found while training
    with pytest.raises(ValueError, match="model"):
        fit(lambda x: x, _loader(), device="cpu", progress=False)
    triples = DataLoader(TensorDataset(torch.zeros(4, 2), torch.zeros(4), torch.zeros(4)))
    with pytest.raises(ValueError, match="batch"):
        fit(mlp(), triples, device="cpu", progress=False)
    other = torch.optim.SGD(mlp().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="schedule"):
        fit(mlp(), _loader(), schedule=torch.optim.lr_scheduler.StepLR(other, 1), device="cpu",
            progress=False)


def test_bad_optimizer_fails_before_any_work(monkeypatch):
    """A string optimizer is refused up front, not after a forward pass deep in the loop."""
    calls = []
    model = mlp()
    model.register_forward_hook(lambda *args: calls.append(1))
    with pytest.raises(ValueError, match=r"optimizer \('adam'\) must be None"):
        fit(model, _loader(), optimizer="adam", device="cpu", progress=False)
    assert not calls, "the model ran before the optimizer was checked"


def test_progress_bar_is_the_course_progress(monkeypatch):
    import llmcours.train as train

    seen = {}

    def fake_progress(iterable=None, **kwargs):
        seen.update(kwargs)
        from tqdm import tqdm

        return tqdm(iterable, **{**kwargs, "disable": True})

    monkeypatch.setattr(train, "progress_bar", fake_progress)
    history = run(max_steps=3)
    assert seen["total"] == 3 and seen["desc"] == "entraînement", seen
    assert history.train_seconds > 0


def test_bf16_autocast_then_float32_in_one_process():
    """bf16 autocast trains (loss falls, weights stay float32), and a later float32 fit still
    works in the same process (accelerate's global state is reset between calls)."""
    float32 = run()
    set_seed(0)
    X, y = separable_data()
    model = mlp()
    bf16 = fit(model, make_loader(X, y), epochs=5, lr=1e-2, device="cpu", progress=False,
               mixed_precision="bf16")
    assert bf16.train_loss[-1] < 0.3 * bf16.train_loss[0], f"bf16 did not learn: {bf16.train_loss}"
    assert bf16.train_loss != float32.train_loss, "bf16 autocast changed nothing"
    assert all(p.dtype == torch.float32 for p in model.parameters()), "weights must stay float32"
    assert run().train_loss == float32.train_loss, "the float32 fit after bf16 differs"


def test_train_step_is_one_plain_sgd_step():
    """fit's core step = forward, loss, backward, step: equal to the hand-written SGD step."""
    from accelerate import Accelerator

    from llmcours.train import train_step

    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    model = torch.nn.Linear(3, 2)
    twin = torch.nn.Linear(3, 2)
    twin.load_state_dict(model.state_dict())
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    _, loss, norm = train_step(model, x, y, loss_fn, optimizer, Accelerator(cpu=True))

    twin_loss = loss_fn(twin(x), y)
    twin_loss.backward()
    grad_norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in twin.parameters()))
    with torch.no_grad():
        for p in twin.parameters():
            p -= 0.1 * p.grad
    assert loss.item() == pytest.approx(twin_loss.item(), abs=1e-6)
    assert float(norm) == pytest.approx(grad_norm.item(), abs=1e-6)
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("native_bf16", "expected"), [(True, "bf16"), (False, "fp16")])
def test_mixed_precision_for_a_gpu_asks_for_native_bf16(monkeypatch, native_bf16, expected):
    """A100/H100 (native bf16) → bf16; T4/V100, where torch only emulates bf16
    (is_bf16_supported() is True, including_emulation=False is False) → fp16 with loss scaling."""
    def fake_is_bf16_supported(including_emulation=True):
        return native_bf16 or including_emulation

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", fake_is_bf16_supported)
    assert mixed_precision_for(torch.device("cuda")) == expected
    assert mixed_precision_for("cuda:0") == expected


def test_mixed_precision_for_the_cpu_is_float32_and_fit_accepts_it():
    assert mixed_precision_for("cpu") == mixed_precision_for(torch.device("cpu")) == "no"
    assert run(mixed_precision=mixed_precision_for("cpu")).train_loss == run().train_loss
    with pytest.raises(ValueError, match="device"):
        mixed_precision_for("gpu")
    with pytest.raises(ValueError, match="device"):
        mixed_precision_for(0)
