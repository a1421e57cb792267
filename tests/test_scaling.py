"""Tests for llmcours.scaling: closed forms (rel 1e-12), Chinchilla consistency, Kaplan's
constants, bad input."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcours.scaling import chinchilla_optimal, kaplan_loss, training_flops


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
