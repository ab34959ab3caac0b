"""Scores that mean what they say: temperature scaling and the expected calibration error."""

from __future__ import annotations

import torch
from torch import Tensor

ECE_BINS = 15


def fit_temperature(log_probs: Tensor, labels: Tensor) -> float:
    """The temperature T > 0 minimising the negative log-likelihood of ``softmax(logits / T)``.

    Source: Guo et al. 2017, "On Calibration of Modern Neural Networks" (ICML), temperature scaling,
    fitted on the validation split. Log-probabilities at T = 1 serve as logits (softmax ignores a shift).

    Args:
        log_probs: float (N, C), log-softmax of the model at T = 1.
        labels: int64 (N,).
    Returns:
        T, a float; 1.0 leaves the probabilities as they are.
    """
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)  # T = exp(log_t) stays positive
    logits = log_probs.double()
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def expected_calibration_error(probs: Tensor, labels: Tensor) -> float:
    """ECE: Σ_b (n_b / N) |accuracy_b − confidence_b| over 15 equal-width bins of the top probability
    (Naeini et al. 2015; Guo et al. 2017), as torchmetrics computes it."""
    from torchmetrics.functional.classification import multiclass_calibration_error

    return float(multiclass_calibration_error(probs.float(), labels, probs.size(1), n_bins=ECE_BINS, norm="l1"))
