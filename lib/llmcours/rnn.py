"""Recurrent networks written from the course's equations: RNN, LSTM and GRU.

Every recurrent network computes a sequence of hidden states ``h_t = f(h_{t-1}, x_t)``. The
cells below implement one step, in the course's notation (``W`` multiplies the input ``x_t``,
``U`` the previous state ``h_{t-1}``; σ is the sigmoid, ⊙ the element-wise product):

RNN (Elman):  h_t = tanh(W x_t + U h_{t-1} + b)

LSTM:         f_t = σ(W_f x_t + U_f h_{t-1} + b_f)        forget gate
              i_t = σ(W_i x_t + U_i h_{t-1} + b_i)        input gate
              c̃_t = tanh(W_c x_t + U_c h_{t-1} + b_c)     candidate memory
              c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t              memory update
              o_t = σ(W_o x_t + U_o h_{t-1} + b_o)        output gate
              h_t = o_t ⊙ tanh(c_t)                        exposed hidden state

GRU:          z_t = σ(W_z x_t + U_z h_{t-1} + b_z)        update gate
              r_t = σ(W_r x_t + U_r h_{t-1} + b_r)        reset gate
              h̃_t = tanh(W_h x_t + U_h (r_t ⊙ h_{t-1}) + b_h)
              h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

The gates' matrices are stacked so that one step costs one matrix product for all the gates,
and the sequence modules (``RNN``, ``LSTM``, ``GRU``, batch-first) compute ``W x_t + b`` for
every time step in a single product before the loop: only ``U h_{t-1}`` is sequential.
States are ``(B, hidden_size)`` tensors (torch's have an extra leading layer dimension).
``from_torch`` copies a one-layer torch module's weights; ours always reads ``(B, T, input)``,
so give it batch-first inputs even when the torch module has ``batch_first=False``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_int, check_tensor

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]


class _Cell(nn.Module):
    """Shared parameters: ``weight_x`` = stacked W (n_gates·H, I), ``weight_h`` = stacked U
    (n_gates·H, H), ``bias`` = stacked b (n_gates·H)."""

    n_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        input_size = check_int(input_size, "input_size", minimum=1)
        hidden_size = check_int(hidden_size, "hidden_size", minimum=1)
        self.input_size, self.hidden_size = input_size, hidden_size
        G = self.n_gates * hidden_size
        self.weight_x = nn.Parameter(torch.empty(G, input_size))
        self.weight_h = nn.Parameter(torch.empty(G, hidden_size))
        self.bias = nn.Parameter(torch.zeros(G)) if bias else None
        bound = 1 / math.sqrt(hidden_size)  # torch's initialisation: U(−1/√H, 1/√H)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        """``W x + b`` for every gate; ``x`` is ``(..., input_size)``."""
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"x must end with input_size={self.input_size}, got shape {tuple(x.shape)}"
            )
        return nn.functional.linear(x, self.weight_x, self.bias)

    def _check_state(self, h: torch.Tensor, B: int, name: str = "h") -> None:
        if not isinstance(h, torch.Tensor) or h.shape != (B, self.hidden_size):
            shape = tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
            raise ValueError(
                f"{name} must have shape (B={B}, hidden_size={self.hidden_size}), got {shape}"
            )

    def _lstm_state(
        self, state: tuple[torch.Tensor, torch.Tensor] | None, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``state = (h, c)`` checked, or zeros if None (an LSTM has *two* states)."""
        B = x.shape[0]
        if state is None:
            return (x.new_zeros(B, self.hidden_size),) * 2
        if not isinstance(state, tuple | list) or len(state) != 2:
            got = (
                f"a tensor of shape {tuple(state.shape)}"
                if isinstance(state, torch.Tensor)
                else repr(state)
            )
            raise ValueError(
                f"state must be the pair (h, c) of an LSTM, two (B={B}, hidden_size="
                f"{self.hidden_size}) tensors, got {got}"
            )
        self._check_state(state[0], B, "state[0] (h)")
        self._check_state(state[1], B, "state[1] (c)")
        return state[0], state[1]


class RNNCell(_Cell):
    """h_t = tanh(W x_t + U h_{t-1} + b) (``nonlinearity="relu"`` replaces tanh by ReLU)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity ({nonlinearity!r}) must be 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity

    def step(self, wx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step from the projected input ``wx = W x_t + b``: returns h_t."""
        a = torch.addmm(wx, h, self.weight_h.t())
        return torch.tanh(a) if self.nonlinearity == "tanh" else torch.relu(a)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step from ``x (B, input_size)`` and ``h (B, hidden_size)`` (zeros if None): h_t."""
        h = x.new_zeros(x.shape[0], self.hidden_size) if h is None else h
        self._check_state(h, x.shape[0])
        return self.step(self.project_input(x), h)


class LSTMCell(_Cell):
    """LSTM step; gates stacked in the course's order f, i, c̃, o (torch uses i, f, g, o)."""

    n_gates = 4

    def step(
        self, wx: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The gate equations for one step, ``wx`` = W x_t + b precomputed: returns (h_t, c_t)."""
        gates = torch.addmm(wx, h, self.weight_h.t())  # one product for the four gates
        f, i, c_tilde, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(c_tilde)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step from ``x (B, input_size)``, ``state = (h, c)`` (zeros if None): (h_t, c_t)."""
        h, c = self._lstm_state(state, x)
        return self.step(self.project_input(x), h, c)


class GRUCell(_Cell):
    """GRU step; gates stacked z, r, h̃.

    ``reset_after=False`` (default) is the course's (and Cho et al. 2014's) candidate
    ``h̃_t = tanh(W_h x_t + U_h (r_t ⊙ h_{t-1}) + b_h)``. torch's ``nn.GRU`` applies the reset
    *after* the product, ``tanh(W_h x_t + b_h + r_t ⊙ (U_h h_{t-1} + b_hn))``, with its own bias
    ``b_hn``: a different function, so :meth:`GRU.from_torch` builds cells with
    ``reset_after=True`` (Keras calls the option the same) to reproduce it exactly.
    """

    n_gates = 3

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = False
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        self.reset_after = reset_after
        self.bias_hn = None
        if reset_after and bias:
            bound = 1 / math.sqrt(hidden_size)
            self.bias_hn = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))

    def step(self, wx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The equations of one step, ``wx`` = W x_t + b precomputed: returns h_t."""
        H = self.hidden_size
        U_zr, U_h = self.weight_h[: 2 * H], self.weight_h[2 * H :]
        zr = torch.sigmoid(torch.addmm(wx[:, : 2 * H], h, U_zr.t()))
        z, r = zr[:, :H], zr[:, H:]
        if self.reset_after:
            uh = h @ U_h.t() if self.bias_hn is None else torch.addmm(self.bias_hn, h, U_h.t())
            h_tilde = torch.tanh(wx[:, 2 * H :] + r * uh)
        else:
            h_tilde = torch.tanh(torch.addmm(wx[:, 2 * H :], r * h, U_h.t()))
        return h + z * (h_tilde - h)  # = (1 − z) ⊙ h_{t-1} + z ⊙ h̃_t, one operation fewer

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step from ``x (B, input_size)`` and ``h (B, hidden_size)`` (zeros if None): h_t."""
        h = x.new_zeros(x.shape[0], self.hidden_size) if h is None else h
        self._check_state(h, x.shape[0])
        return self.step(self.project_input(x), h)


class _Recurrent(nn.Module):
    """Runs a cell over a batch-first sequence ``x (B, T, input_size)``."""

    def _check_input(self, x: torch.Tensor) -> None:
        if check_tensor(x, "x", floating=True).dim() != 3 or x.shape[-1] != self.cell.input_size:
            raise ValueError(
                f"x must have shape (B, T, input_size={self.cell.input_size}), got {tuple(x.shape)}"
            )

    @staticmethod
    def _check_torch(m: nn.RNNBase, kind: type) -> None:
        if not isinstance(m, kind):
            raise ValueError(f"m must be a torch.nn.{kind.__name__}, got {type(m).__name__}")
        if m.num_layers != 1 or m.bidirectional or m.proj_size != 0:
            raise ValueError("m must have num_layers=1, bidirectional=False and proj_size=0")


class RNN(_Recurrent):
    """Elman RNN over a sequence: ``forward(x, h0=None) -> (outputs (B, T, H), h_T (B, H))``."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size, bias, nonlinearity)

    def forward(
        self, x: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run over ``x (B, T, input_size)`` from ``state`` (zeros if None).

        Returns ``(outputs (B, T, H), h_T)``.
        """
        self._check_input(x)
        h = x.new_zeros(x.shape[0], self.cell.hidden_size) if state is None else state
        self.cell._check_state(h, x.shape[0], "state")
        wx = self.cell.project_input(x)  # W x_t + b for all t at once: (B, T, n_gates·H)
        outputs = []
        for t in range(x.shape[1]):
            h = self.cell.step(wx[:, t], h)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h

    @classmethod
    def from_torch(cls, m: nn.RNN) -> RNN:
        """Copy a one-layer ``nn.RNN``.

        W = ``weight_ih_l0``, U = ``weight_hh_l0``, b = ``bias_ih_l0 + bias_hh_l0``.
        """
        cls._check_torch(m, nn.RNN)
        new = cls(m.input_size, m.hidden_size, m.bias, m.nonlinearity.lower()).to(
            m.weight_ih_l0.dtype
        )
        with torch.no_grad():
            new.cell.weight_x.copy_(m.weight_ih_l0)
            new.cell.weight_h.copy_(m.weight_hh_l0)
            if m.bias:
                new.cell.bias.copy_(m.bias_ih_l0 + m.bias_hh_l0)
        return new


class LSTM(_Recurrent):
    """LSTM over a sequence: ``forward(x, (h0, c0)=None) -> (outputs (B, T, H), (h_T, c_T))``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.cell = LSTMCell(input_size, hidden_size, bias)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Run over ``x (B, T, input_size)`` from ``state = (h_0, c_0)``: (outputs, (h_T, c_T))."""
        self._check_input(x)
        h, c = self.cell._lstm_state(state, x)
        wx = self.cell.project_input(x)  # (B, T, 4H): the input half of all gates, all steps
        outputs = []
        for t in range(x.shape[1]):
            h, c = self.cell.step(wx[:, t], h, c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c)

    @classmethod
    def from_torch(cls, m: nn.LSTM) -> LSTM:
        """Copy a one-layer ``nn.LSTM``, reordering torch's gates (i, f, g, o) as (f, i, c̃, o)."""
        cls._check_torch(m, nn.LSTM)
        new = cls(m.input_size, m.hidden_size, m.bias).to(m.weight_ih_l0.dtype)
        H = m.hidden_size
        order = torch.cat([torch.arange(H, 2 * H), torch.arange(H), torch.arange(2 * H, 4 * H)])
        with torch.no_grad():
            new.cell.weight_x.copy_(m.weight_ih_l0[order])
            new.cell.weight_h.copy_(m.weight_hh_l0[order])
            if m.bias:
                new.cell.bias.copy_((m.bias_ih_l0 + m.bias_hh_l0)[order])
        return new


class GRU(_Recurrent):
    """GRU over a sequence: ``forward(x, h0=None) -> (outputs (B, T, H), h_T (B, H))``."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = False
    ) -> None:
        super().__init__()
        self.cell = GRUCell(input_size, hidden_size, bias, reset_after)

    # The loop of RNN.forward, one state h, run with GRU cells.
    forward = RNN.forward

    @classmethod
    def from_torch(cls, m: nn.GRU) -> GRU:
        """Copy a one-layer ``nn.GRU`` into a ``reset_after=True`` GRU with the same outputs.

        torch writes ``h_t = (1 − z') ⊙ n_t + z' ⊙ h_{t-1}``: its z' keeps the *old* state,
        where the course's z_t takes the *new* one, so z_t = 1 − z'. Since 1 − σ(a) = σ(−a),
        negating the rows of z' (weights and biases) turns torch's gate into the course's.
        torch's gate order (r, z, n) becomes (z, r, h̃); its two biases add up except ``b_hn``,
        which sits inside the reset product and stays separate.
        """
        cls._check_torch(m, nn.GRU)
        new = cls(m.input_size, m.hidden_size, m.bias, reset_after=True).to(m.weight_ih_l0.dtype)
        H = m.hidden_size
        order = torch.cat([torch.arange(H, 2 * H), torch.arange(H), torch.arange(2 * H, 3 * H)])
        sign = torch.ones(3 * H, 1, dtype=m.weight_ih_l0.dtype)
        sign[:H] = -1  # after reordering, the first H rows are torch's z'
        with torch.no_grad():
            new.cell.weight_x.copy_(sign * m.weight_ih_l0[order])
            new.cell.weight_h.copy_(sign * m.weight_hh_l0[order])
            if m.bias:
                b = m.bias_ih_l0[order].clone()
                b[: 2 * H] += m.bias_hh_l0[order][: 2 * H]
                new.cell.bias.copy_(sign[:, 0] * b)
                new.cell.bias_hn.copy_(m.bias_hh_l0[2 * H :])
        return new
