"""The network `mc-dropout` hands to learner code, drawn per seed, and the exact moments of
one stochastic pass through it, from which the checks bound what a correct n-sample
estimate can return (the derivation is in grader/exercises/mc_dropout.py's docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grader.exercises.checks import DELTA, Array, bernstein_tolerance

BATCH = 3
OUTPUTS = 2


@dataclass(frozen=True)
class Moments:
    """Exact moments of one stochastic pass, per (row, output), and the check tolerances.

    mean_tol: Hoeffding on the n·H independent mask bits of the sample mean: the term
      c_j (m_sj - q)/n lies in an interval |c_j|/n wide, so
      P(|mean - μ| ≥ t) ≤ 2 exp(-2 t² n / Σ_j c_j²); union over the B·K outputs, δ = 1e-9.
    std bounds: with Z_s = (y_s - μ)², the ddof=0 sample variance is
      S² = mean(Z) - (mean(y) - μ)². Bernstein bounds mean(Z) - sigma² (exact variance
      Var Z = E(y-μ)⁴ - sigma⁴, range |Z - sigma²| ≤ max(R² - sigma², sigma²) with
      R = max |y - μ|), and Hoeffding bounds (mean(y) - μ)² as above; δ/2 each, split
      over the B·K outputs. Either ddof (0 or 1) is accepted."""

    mu: Array
    sigma: Array
    mean_tol: Array
    var_low: Array
    var_high: Array


def moments_exact(x: Array, weights: list[Array], p: float, n: int) -> Moments:
    w1, b1, w2, b2 = weights
    q = 1.0 - p
    hidden = np.maximum(x @ w1 + b1, 0.0)  # (B, H)
    mu = hidden @ w2 + b2  # (B, K)
    c = hidden[:, :, None] * w2[None, :, :] / q  # (B, H, K)
    s2, s4 = np.sum(c**2, axis=1), np.sum(c**4, axis=1)
    var = p * q * s2
    fourth = s4 * (q * p**4 + p * q**4) + 3.0 * (s2**2 - s4) * (p * q) ** 2
    reach = np.maximum(
        np.sum(np.maximum(c * p, -c * q), axis=1), -np.sum(np.minimum(c * p, -c * q), axis=1)
    )
    outputs = mu.size
    mean_tol = np.empty_like(mu)
    var_low, var_high = np.empty_like(mu), np.empty_like(mu)
    for index in np.ndindex(mu.shape):
        # n·H terms c_j (m_sj - q) / n, each |c_j|/n wide: the squared widths sum to Σ c_j² / n
        mean_tol[index] = math.sqrt(math.log(2.0 * outputs / DELTA) * s2[index] / (2.0 * n))
        v = float(var[index])
        t = bernstein_tolerance(
            n,
            float(fourth[index]) - v * v,
            max(float(reach[index]) ** 2 - v, v),
            DELTA / (2 * outputs),
        )
        a = math.sqrt(math.log(4.0 * outputs / DELTA) * s2[index] / (2.0 * n))
        var_low[index] = max(v - t - a * a, 0.0)
        var_high[index] = (v + t) * n / (n - 1)
    return Moments(mu=mu, sigma=np.sqrt(var), mean_tol=mean_tol, var_low=var_low, var_high=var_high)


def network_draw(gen: np.random.Generator) -> tuple[float, Array, list[Array], int]:
    """p, the input batch, (w1, b1, w2, b2) and n_samples.

    The hidden activations are kept ≥ 0.5 (so every output varies under dropout), the output
    scale makes sigma about 5-15 (so a variance, sigma², is far from a std) and the output bias
    puts μ at least 3 sigma above sigma (so a swapped (std, mean) is visible). Over 3000 seeds
    the std check's lower bound was always ≥ 0.49 sigma and its upper bound ≤ 1.29 sigma."""
    p = round(float(gen.uniform(0.3, 0.5)), 3)
    q = 1.0 - p
    inputs, hidden_units = int(gen.integers(3, 6)), int(gen.integers(6, 9))
    x = gen.normal(size=(BATCH, inputs))
    w1 = gen.normal(size=(inputs, hidden_units)) / math.sqrt(inputs)
    pre = x @ w1
    b1 = 0.5 + np.maximum(0.0, -pre.min(axis=0)) + gen.uniform(0.0, 1.0, size=hidden_units)
    hidden = pre + b1
    w2 = gen.normal(size=(hidden_units, OUTPUTS))
    sigma = np.sqrt(p * q * np.sum((hidden[:, :, None] * w2[None] / q) ** 2, axis=1))
    w2 *= float(gen.uniform(5.0, 15.0)) / float(np.mean(sigma))
    sigma = np.sqrt(p * q * np.sum((hidden[:, :, None] * w2[None] / q) ** 2, axis=1))
    offset = gen.uniform(3.0, 6.0, size=OUTPUTS) * sigma.max(axis=0)
    b2 = np.abs(hidden @ w2).max(axis=0) + offset
    return p, x, [w1, b1, w2, b2], int(gen.integers(500, 601))
