"""Temperature scaling and ECE against a NumPy oracle."""

import numpy as np
import torch

from lstm_sentiment.metrics import expected_calibration_error
from lstm_sentiment.training.calibration import fit_temperature


def test_fit_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(0)
    logits = torch.from_numpy(rng.normal(0, 3, size=(20_000, 2)))
    # Labels drawn from softmax(logits / 2): the well-calibrated temperature is 2.
    p = torch.softmax(logits / 2.0, dim=-1).numpy()
    labels = torch.from_numpy((rng.random(20_000) < p[:, 1]).astype(np.int64))
    temperature = fit_temperature(torch.log_softmax(logits, dim=-1), labels)
    assert abs(temperature - 2.0) < 0.1


def numpy_ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    confidence, predicted = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            total += inside.mean() * abs((predicted[inside] == labels[inside]).mean() - confidence[inside].mean())
    return total


def test_ece_matches_numpy_oracle():
    rng = np.random.default_rng(1)
    p1 = rng.random(5_000)
    probs = np.stack([1 - p1, p1], axis=1)
    labels = (rng.random(5_000) < 0.5 + (p1 - 0.5) / 2).astype(np.int64)  # the true odds are half as far from 0.5: over-confident
    got = expected_calibration_error(torch.from_numpy(probs), torch.from_numpy(labels))
    assert got > 0.05
    assert abs(got - numpy_ece(probs, labels)) < 1e-5


def test_a_validation_set_the_model_gets_all_right_does_not_make_every_score_certain():
    # Four texts, all right: the likelihood grows without end as T → 0 (a 4-text run once fitted T = 2e-6).
    from lstm_sentiment.training.calibration import T_MIN

    log_probs = torch.log(torch.tensor([[0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45]]))
    assert fit_temperature(log_probs, torch.tensor([1, 0, 1, 0])) == T_MIN
