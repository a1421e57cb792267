"""Tests for llmcours.scaling: closed forms (rel 1e-12), Chinchilla consistency, Kaplan's
constants, the power-law fit against exact data and numpy.polyfit (rel 1e-9), costs, the
attention matrix's memory, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcours.scaling import (
    attention_matrix_bytes,
    chinchilla_loss,
    chinchilla_optimal,
    fit_power_law,
    kaplan_loss,
    training_costs,
    training_flops,
)


def test_training_flops_gpt3():
    assert math.isclose(training_flops(175e9, 300e9), 3.15e23, rel_tol=1e-12), "GPT-3: 6 N D = 3.15e23"
    assert training_flops(1, 1) == 6.0


def test_chinchilla_optimal_chinchilla_itself():
    # Chinchilla: 70e9 parameters, 1.4e12 tokens (D = 20 N), C = 6 N D = 5.88e23 FLOPs
    n, d = chinchilla_optimal(6 * 70e9 * 1.4e12)
    assert math.isclose(n, 70e9, rel_tol=1e-12) and math.isclose(d, 1.4e12, rel_tol=1e-12), (n, d)


@given(log_c=st.floats(15, 30), ratio=st.floats(1, 100))
def test_chinchilla_optimal_inverts_training_flops(log_c, ratio):
    compute = 10**log_c
    n, d = chinchilla_optimal(compute, tokens_per_param=ratio)
    assert math.isclose(training_flops(n, d), compute, rel_tol=1e-9), "6 N D must give back C"
    assert math.isclose(d / n, ratio, rel_tol=1e-9)
    n4, _ = chinchilla_optimal(4 * compute, tokens_per_param=ratio)
    assert math.isclose(n4, 2 * n, rel_tol=1e-9), "4x the compute -> 2x the parameters"


def test_kaplan_loss_constants_and_limits():
    assert math.isclose(kaplan_loss(8.8e13), 1.0, rel_tol=1e-12), "L(N_c) = 1"
    n = 1.5e9
    assert math.isclose(kaplan_loss(n), (8.8e13 / n) ** 0.076, rel_tol=1e-12)
    assert kaplan_loss(1e9) > kaplan_loss(1e10) > kaplan_loss(1e11), "more parameters, lower loss"
    # L(N, D) -> L(N) when D -> infinity, and more data lowers the loss
    assert math.isclose(kaplan_loss(n, 1e30), kaplan_loss(n), rel_tol=1e-9)
    assert kaplan_loss(n, 1e9) > kaplan_loss(n, 1e11) > kaplan_loss(n)
    expected = ((8.8e13 / n) ** (0.076 / 0.095) + 5.4e13 / 1e10) ** 0.095
    assert math.isclose(kaplan_loss(n, 1e10), expected, rel_tol=1e-12)
    # a power law: a straight line of slope -alpha_N in log-log axes
    slope = (math.log(kaplan_loss(1e10)) - math.log(kaplan_loss(1e8))) / (math.log(1e10) - math.log(1e8))
    assert math.isclose(slope, -0.076, rel_tol=1e-9)


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="n_params"):
        training_flops(0, 1e9)
    with pytest.raises(ValueError, match="n_tokens"):
        training_flops(1e9, -5)
    with pytest.raises(ValueError, match="compute"):
        chinchilla_optimal(-1.0)
    with pytest.raises(ValueError, match="tokens_per_param"):
        chinchilla_optimal(1e20, tokens_per_param=0)
    with pytest.raises(ValueError, match="n_params"):
        kaplan_loss(0)
    with pytest.raises(ValueError, match="n_tokens"):
        kaplan_loss(1e9, 0)


@given(log_a=st.floats(-3, 5), alpha=st.floats(0.01, 2), log_x0=st.floats(0, 6))
def test_fit_power_law_recovers_exact_data(log_a, alpha, log_x0):
    a = 10**log_a
    xs = [10 ** (log_x0 + 0.5 * i) for i in range(5)]
    ys = [a * x**-alpha for x in xs]
    a_hat, alpha_hat = fit_power_law(xs, ys)
    assert math.isclose(alpha_hat, alpha, rel_tol=1e-9, abs_tol=1e-12), (alpha_hat, alpha)
    assert math.isclose(a_hat, a, rel_tol=1e-8), (a_hat, a)


def test_fit_power_law_kaplan_and_polyfit():
    ns = [1e6, 1e7, 1e8, 1e9]
    a, alpha = fit_power_law(ns, [kaplan_loss(n) for n in ns])
    assert math.isclose(alpha, 0.076, rel_tol=1e-9) and math.isclose(a, 8.8e13**0.076, rel_tol=1e-9)
    # noisy data: the same line as numpy's least squares in log-log axes
    rng = np.random.default_rng(0)
    x = np.array([3e3, 1e4, 3e4, 1e5, 3e5])
    y = 5.0 * x**-0.2 * np.exp(rng.normal(0, 0.05, x.size))
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    a, alpha = fit_power_law(x.tolist(), y.tolist())
    assert math.isclose(alpha, -slope, rel_tol=1e-9) and math.isclose(a, math.exp(intercept), rel_tol=1e-9)


def test_chinchilla_loss_values_and_isoflop_minimum():
    n, d = 70e9, 1.4e12
    assert math.isclose(chinchilla_loss(n, d), 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28, rel_tol=1e-12)
    assert chinchilla_loss(n, 1e30) > 1.69 and chinchilla_loss(1e40, 1e40) == pytest.approx(1.69, abs=1e-6)
    # the minimum of an isoFLOP curve L(N, C / 6N) is the closed form N = G (C/6)^(β/(α+β))
    compute = 5.76e23
    grid = np.logspace(9, 12, 30001)
    losses = [chinchilla_loss(x, compute / (6 * x)) for x in grid]
    g = (0.34 * 406.4 / (0.28 * 410.7)) ** (1 / (0.34 + 0.28))
    n_opt = g * (compute / 6) ** (0.28 / (0.34 + 0.28))
    assert math.isclose(grid[int(np.argmin(losses))], n_opt, rel_tol=1e-3)


def test_training_costs_gpt3_on_v100():
    # Lambda Labs' estimate of GPT-3: 3.14e23 FLOPs at 28 TFLOP/s -> ~355 V100-years, ~4.6 M$
    costs = training_costs(3.14e23, peak_flops=28e12, utilization=1.0, power_watts=300,
                           pue=1.1, price_per_hour=1.5)
    hours = 3.14e23 / 28e12 / 3600
    assert math.isclose(costs["hours"], hours, rel_tol=1e-12)
    assert 350 < hours / (365 * 24) < 360 and 4.5e6 < costs["price"] < 4.8e6
    assert math.isclose(costs["kwh"], hours * 0.3 * 1.1, rel_tol=1e-12)
    half = training_costs(3.14e23, peak_flops=28e12, utilization=0.5, power_watts=300)
    assert math.isclose(half["hours"], 2 * hours, rel_tol=1e-12) and half["price"] == 0.0


def test_attention_matrix_bytes():
    assert attention_matrix_bytes(1024) == 1024 * 1024 * 2
    assert attention_matrix_bytes(2048, n_heads=32, batch_size=4, bytes_per_value=4) == 4 * 32 * 2048**2 * 4
    assert attention_matrix_bytes(8, window=3, bytes_per_value=1) == 24
    assert attention_matrix_bytes(8, window=100, bytes_per_value=1) == 64  # window > T: full
    assert attention_matrix_bytes(4096) == 4 * attention_matrix_bytes(2048), "O(T²)"


def test_new_functions_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        fit_power_law([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_power_law([1], [1])
    with pytest.raises(ValueError, match="x must hold finite values > 0"):
        fit_power_law([0, 1], [1, 2])
    with pytest.raises(ValueError, match="y must hold finite values > 0"):
        fit_power_law([1, 2], [1, -2])
    with pytest.raises(ValueError, match="distinct"):
        fit_power_law([3, 3], [1, 2])
    with pytest.raises(ValueError, match="n_tokens"):
        chinchilla_loss(1e9, 0)
    with pytest.raises(ValueError, match="utilization"):
        training_costs(1e20, peak_flops=1e14, utilization=1.5, power_watts=700)
    with pytest.raises(ValueError, match="pue"):
        training_costs(1e20, peak_flops=1e14, utilization=0.4, power_watts=700, pue=0.5)
    with pytest.raises(ValueError, match="power_watts"):
        training_costs(1e20, peak_flops=1e14, utilization=0.4, power_watts=0)
    with pytest.raises(ValueError, match="context_length"):
        attention_matrix_bytes(0)
    with pytest.raises(ValueError, match="window"):
        attention_matrix_bytes(16, window=0)
