"""Classification figures from a confusion matrix, and the expected calibration error (torchmetrics)."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchmetrics.functional.classification import multiclass_calibration_error, multiclass_confusion_matrix

ECE_BINS = 15
Z_95 = 1.959964  # the standard normal's 97.5th percentile: a two-sided 95 % interval


def classification_report(y_true: list[int], y_pred: list[int], id2label: list[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix.

    Args:
        y_true, y_pred: class ids.
        id2label: class names by id.
    Returns:
        ``{"n", "accuracy", "accuracy_ci95" (:func:`wilson_interval`), "macro_f1", "per_class": {label: {precision, recall, f1, support}},
        "confusion_matrix": rows = true class, columns = predicted, in id2label order, "labels"}``.
        A class never predicted has precision 0 (and F1 0), as in scikit-learn's zero_division=0. Macro-F1
        averages the classes that occur in ``y_true`` or ``y_pred``, as scikit-learn's ``f1_score`` does:
        a class absent from the data but predicted counts with its F1 of 0, as the per-class table shows it;
        a class neither in the data nor predicted has precision, recall and F1 None (it has no figures, and
        a 0 listed beside a macro-F1 that leaves it out read as a contradiction).
    """
    num_classes = len(id2label)
    cm = multiclass_confusion_matrix(torch.tensor(y_pred), torch.tensor(y_true), num_classes).double()
    tp = cm.diag()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1), 0.0)
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1), 0.0)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    present = (cm.sum(1) + cm.sum(0)) > 0
    return {
        "n": len(y_true),
        "accuracy": round(float(tp.sum() / max(len(y_true), 1)), 6),
        "accuracy_ci95": wilson_interval(int(tp.sum()), len(y_true)),
        "macro_f1": round(float(f1[present].mean()), 6),
        "labels": list(id2label),
        "per_class": {
            label: {
                "precision": round(float(precision[k]), 6) if present[k] else None,
                "recall": round(float(recall[k]), 6) if present[k] else None,
                "f1": round(float(f1[k]), 6) if present[k] else None,
                "support": int(cm[k].sum()),
            }
            for k, label in enumerate(id2label)
        },
        "confusion_matrix": cm.long().tolist(),
    }


def wilson_interval(correct: int, n: int, z: float = Z_95) -> list[float] | None:
    """The Wilson score interval of an accuracy of ``correct`` out of ``n`` (Wilson 1927; Brown, Cai &
    DasGupta 2001 recommend it over the normal interval, which leaves [1, 1] for 2 of 2): ``[low, high]``,
    6 decimals, within [0, 1]; None for n = 0. At the default z a 95 % interval: 2 of 2 right is
    0.342–1, 1,720 of 2,000 is 0.844–0.875."""
    if n == 0:
        return None
    p, z2 = correct / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def expected_calibration_error(probs: Tensor, labels: Tensor) -> float:
    """ECE: Σ_b (n_b / N) |accuracy_b − confidence_b| over 15 equal-width bins of the top probability
    (Naeini et al. 2015; Guo et al. 2017), as torchmetrics computes it."""
    return float(multiclass_calibration_error(probs.float(), labels, probs.size(1), n_bins=ECE_BINS, norm="l1"))
