"""Tests for llmcours.rnn: RNN/LSTM/GRU.from_torch reproduce torch's outputs and final states
(atol 1e-5 in float32, 1e-10 in float64), the cells follow the course's equations, bad input."""

import pytest
import torch
from torch import nn

from llmcours.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

B, T, D_IN, H = 3, 9, 5, 7


def assert_close(actual, expected, atol, what):
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f"{what}: max |difference| {diff:.3g} > atol {atol:g}"


CASES = [
    (nn.RNN, RNN, {}),
    (nn.RNN, RNN, {"nonlinearity": "relu"}),
    (nn.RNN, RNN, {"bias": False}),
    (nn.LSTM, LSTM, {}),
    (nn.LSTM, LSTM, {"bias": False}),
    (nn.GRU, GRU, {}),
    (nn.GRU, GRU, {"bias": False}),
]


@pytest.mark.parametrize("dtype, atol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("torch_cls, our_cls, kwargs", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_from_torch_matches(torch_cls, our_cls, kwargs, with_state, dtype, atol):
    torch.manual_seed(0)
    ref = torch_cls(D_IN, H, batch_first=True, **kwargs).to(dtype)
    ours = our_cls.from_torch(ref)
    x = torch.randn(B, T, D_IN, dtype=dtype)
    is_lstm = torch_cls is nn.LSTM
    state_ref = state = None
    if with_state:
        h0, c0 = torch.randn(B, H, dtype=dtype), torch.randn(B, H, dtype=dtype)
        state_ref = (h0[None], c0[None]) if is_lstm else h0[None]  # torch: (num_layers, B, H)
        state = (h0, c0) if is_lstm else h0
    out_ref, s_ref = ref(x, state_ref)
    out, s = ours(x, state)
    assert out.shape == (B, T, H)
    assert_close(out, out_ref, atol, "outputs")
    if is_lstm:
        assert_close(s[0], s_ref[0][0], atol, "final h")
        assert_close(s[1], s_ref[1][0], atol, "final c")
    else:
        assert_close(s, s_ref[0], atol, "final h")
        assert_close(out[:, -1], s, 0.0, "last output = final state")


def test_rnn_cell_equation():
    torch.manual_seed(1)
    cell = RNNCell(D_IN, H).double()
    x, h = torch.randn(B, D_IN, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    expected = torch.tanh(x @ cell.weight_x.T + h @ cell.weight_h.T + cell.bias)
    assert_close(cell(x, h), expected, 1e-12, "h_t = tanh(W x_t + U h_{t-1} + b)")


def test_lstm_cell_equations_in_course_order():
    torch.manual_seed(2)
    cell = LSTMCell(D_IN, H).double()
    x = torch.randn(B, D_IN, dtype=torch.float64)
    h, c = torch.randn(B, H, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    W = cell.weight_x.split(H)  # W_f, W_i, W_c, W_o
    U = cell.weight_h.split(H)
    b = cell.bias.split(H)
    f = torch.sigmoid(x @ W[0].T + h @ U[0].T + b[0])
    i = torch.sigmoid(x @ W[1].T + h @ U[1].T + b[1])
    c_tilde = torch.tanh(x @ W[2].T + h @ U[2].T + b[2])
    c_new = f * c + i * c_tilde
    o = torch.sigmoid(x @ W[3].T + h @ U[3].T + b[3])
    h_new = o * torch.tanh(c_new)
    h_out, c_out = cell(x, (h, c))
    assert_close(c_out, c_new, 1e-12, "c_t")
    assert_close(h_out, h_new, 1e-12, "h_t")


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_cell_equations(reset_after):
    torch.manual_seed(3)
    cell = GRUCell(D_IN, H, reset_after=reset_after).double()
    x, h = torch.randn(B, D_IN, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    W, U, b = cell.weight_x.split(H), cell.weight_h.split(H), cell.bias.split(H)
    z = torch.sigmoid(x @ W[0].T + h @ U[0].T + b[0])
    r = torch.sigmoid(x @ W[1].T + h @ U[1].T + b[1])
    if reset_after:
        h_tilde = torch.tanh(x @ W[2].T + b[2] + r * (h @ U[2].T + cell.bias_hn))
    else:
        h_tilde = torch.tanh(x @ W[2].T + (r * h) @ U[2].T + b[2])
    expected = (1 - z) * h + z * h_tilde  # the course's convention: z weighs the new candidate
    assert_close(cell(x, h), expected, 1e-12, f"GRU h_t (reset_after={reset_after})")


def test_course_gru_differs_from_torch_candidate():
    """The course's reset-before GRU is a different function from torch's reset-after one."""
    torch.manual_seed(4)
    ref = nn.GRU(D_IN, H, batch_first=True).double()
    ours = GRU.from_torch(ref)
    course = GRU(D_IN, H).double()
    course.load_state_dict({k: v for k, v in ours.state_dict().items() if k != "cell.bias_hn"})
    x = torch.randn(B, T, D_IN, dtype=torch.float64)
    diff = (course(x)[0] - ref(x)[0]).abs().max().item()
    assert diff > 1e-3, f"reset-before and reset-after GRUs should differ, max diff {diff}"


def test_gradients_flow_through_time():
    torch.manual_seed(5)
    lstm = LSTM(D_IN, H)
    x = torch.randn(B, T, D_IN, requires_grad=True)
    out, _ = lstm(x)
    out[:, -1].sum().backward()
    assert x.grad[:, 0].abs().sum() > 0, "the last output must depend on the first input"
    assert all(p.grad is not None for p in lstm.parameters())


def test_bad_inputs_raise_value_error():
    lstm = LSTM(D_IN, H)
    with pytest.raises(ValueError, match="input_size"):
        lstm(torch.randn(B, T, D_IN + 1))
    with pytest.raises(ValueError, match="x must have shape"):
        lstm(torch.randn(T, D_IN))
    with pytest.raises(ValueError, match="state"):
        lstm(torch.randn(B, T, D_IN), (torch.zeros(1, B, H), torch.zeros(1, B, H)))
    with pytest.raises(ValueError, match="state"):
        GRU(D_IN, H)(torch.randn(B, T, D_IN), torch.zeros(B, H + 1))
    with pytest.raises(ValueError, match="hidden_size"):
        RNN(D_IN, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCell(D_IN, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="num_layers"):
        LSTM.from_torch(nn.LSTM(D_IN, H, num_layers=2, batch_first=True))
    with pytest.raises(ValueError, match="nn.GRU"):
        GRU.from_torch(nn.LSTM(D_IN, H, batch_first=True))


def test_lstm_state_must_be_the_pair_h_c():
    # LSTM(x, h) with a single tensor used to fail with « too many values to unpack ».
    x = torch.randn(B, T, D_IN)
    for module in (LSTM(D_IN, H), LSTMCell(D_IN, H)):
        inp = x if isinstance(module, LSTM) else x[:, 0]
        with pytest.raises(ValueError, match=r"state must be the pair \(h, c\).*got a tensor"):
            module(inp, torch.zeros(B, H))
        with pytest.raises(ValueError, match=r"state must be the pair \(h, c\)"):
            module(inp, (torch.zeros(B, H),))
        with pytest.raises(ValueError, match=r"state\[1\] \(c\) must have shape"):
            module(inp, (torch.zeros(B, H), None))
    lstm = LSTM(D_IN, H)
    out, (h, c) = lstm(x, [torch.zeros(B, H), torch.zeros(B, H)])  # a list is fine too
    assert torch.equal(out, lstm(x)[0])


def test_sizes_accept_numpy_integers_only():
    import numpy as np

    assert LSTM(np.int64(D_IN), np.int32(H))(torch.randn(B, T, D_IN))[0].shape == (B, T, H)
    with pytest.raises(ValueError, match=r"hidden_size \(4.0\) must be an integer"):
        GRU(D_IN, 4.0)
