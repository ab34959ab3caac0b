"""Temperature and class-bias scaling, and ECE against a NumPy oracle."""

import numpy as np
import pytest
import torch

from lstm_sentiment.config import T_MIN
from lstm_sentiment.metrics import classification_report, expected_calibration_error
from lstm_sentiment.output import report_table
from lstm_sentiment.training.calibration import BIAS_MIN_SUPPORT, T_MIN_SUPPORT, Scaling, fit_scaling, fold_bias


def test_fit_scaling_recovers_the_generating_temperature_and_bias():
    rng = np.random.default_rng(0)
    logits = torch.from_numpy(rng.normal(0, 3, size=(20_000, 2)))
    # Labels drawn from softmax(logits / 2 + (-0.4, 0.4)): the well-calibrated T is 2 and b is (-0.4, 0.4).
    p = torch.softmax(logits / 2.0 + torch.tensor([-0.4, 0.4], dtype=torch.float64), dim=-1).numpy()
    labels = torch.from_numpy((rng.random(20_000) < p[:, 1]).astype(np.int64))
    scaling = fit_scaling(torch.log_softmax(logits, dim=-1), labels)
    assert abs(scaling.temperature - 2.0) < 0.1
    assert np.allclose(scaling.bias, (-0.4, 0.4), atol=0.05)


def test_no_bias_is_fitted_on_a_class_with_few_validation_texts():
    rng = np.random.default_rng(2)
    n = 2 * BIAS_MIN_SUPPORT - 1
    logits = torch.from_numpy(rng.normal(0, 1, size=(n, 2)))
    labels = torch.zeros(n, dtype=torch.int64)
    labels[: BIAS_MIN_SUPPORT - 1] = 1  # the positive class one text short
    assert fit_scaling(torch.log_softmax(logits, dim=-1), labels).bias is None


def test_folding_the_bias_into_the_output_layer_gives_the_scaled_probabilities():
    torch.manual_seed(0)
    layer = torch.nn.Linear(8, 3).double()
    features = torch.randn(50, 8, dtype=torch.float64)
    scaling = Scaling(1.7, (0.5, -0.2, -0.3))
    expected = torch.softmax(layer(features) / 1.7 + torch.tensor(scaling.bias, dtype=torch.float64), dim=-1)
    fold_bias(layer, scaling)
    assert torch.allclose(torch.softmax(layer(features) / 1.7, dim=-1), expected, atol=1e-12)


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
    log_probs = torch.log(torch.tensor([[0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45]] * 10))
    assert len(log_probs) >= T_MIN_SUPPORT
    scaling = fit_scaling(log_probs, torch.tensor([1, 0, 1, 0] * 10))
    assert scaling.temperature == pytest.approx(T_MIN, abs=1e-6) and scaling.bias is None
    # Four such texts are too few to fit anything: the scores stay as trained (a 2-text fit gave T = 0.27).
    assert fit_scaling(log_probs[:4], torch.tensor([1, 0, 1, 0])) == Scaling(1.0, None)


def test_a_temperature_at_its_bound_is_said_in_the_warning_and_the_card():
    # A fine-tune on 300 texts got its 32 validation texts right: T = 0.25, "asdf" positive 0.999998, said nowhere.
    from lstm_sentiment.config import T_MAX
    from lstm_sentiment.training.calibration import bound_note
    from lstm_sentiment.training.card import _calibration_lines

    fitted = {"temperature": T_MIN, "logit_bias": None, "ece_before": 0.1, "ece_after": 0.05, "accuracy_before": 1.0, "accuracy_after": 1.0, "bins": 15, "source": "mine.csv (validation split)", "n": 32}
    note = bound_note(fitted)
    assert note == (
        "the temperature is at its lower bound 0.25: on mine.csv (validation split) (32 texts, accuracy 1.0000) the likelihood"
        " still rose as it fell, and every score is pushed toward 0 or 1 (4 times the logits); the model is less sure than it is right (trained too few epochs, or too few validation texts to tell): more epochs (--epochs, TrainConfig.epochs) or more validation texts (--valid) calibrate the scores better"
    )
    # A model that barely tells the classes apart (accuracy 0.62) was told its scores would lie near 0 or 1
    # where they stayed near even and the fit raised the calibration error.
    assert "and its calibration error rose from 0.0864 to 0.1598;" in bound_note({**fitted, "accuracy_after": 0.62, "ece_before": 0.0864, "ece_after": 0.1598})
    assert _calibration_lines(fitted)[-2].endswith(f" after. Note: {note}.")
    assert "upper bound 10.0" in bound_note({**fitted, "temperature": T_MAX})
    # The fit only nears a bound (T = exp(mid + half · tanh(raw))): 9.998981, printed as T=10.00, went unnoted.
    assert "upper bound 10.0" in bound_note({**fitted, "temperature": 9.998981})
    assert "lower bound 0.25" in bound_note({**fitted, "temperature": 0.2512})
    assert bound_note({**fitted, "temperature": 0.26}) is None and bound_note({**fitted, "temperature": 1.0}) is None
    assert bound_note({**fitted, "n": 20, "temperature": 1.0}) is None  # no temperature fitted on so few
    assert "Note" not in " ".join(_calibration_lines({**fitted, "temperature": 1.3}))


def test_scaling_fitted_at_the_temperature_bound_does_not_undo_the_model():
    # A model after one epoch: margins of a few hundredths of a logit, 0.725 accurate, leaning one way. T was
    # fitted freely (far below the bound), raised to T_MIN afterwards, and kept the biases fitted for the
    # smaller T (±0.27), which at 0.25 outweighed the logits: accuracy 0.725 → 0.547 on the texts it was fitted on.
    rng = np.random.default_rng(0)
    labels = torch.from_numpy(rng.integers(0, 2, 1_200))
    margin = torch.from_numpy((2 * labels.numpy() - 1) * 0.04 + rng.normal(0.03, 0.06, 1_200))
    log_probs = torch.log_softmax(torch.stack([-margin / 2, margin / 2], dim=1), dim=-1)

    def nll_and_accuracy(scaling: Scaling) -> tuple[float, float]:
        logits = log_probs / scaling.temperature + torch.tensor(scaling.bias or (0.0, 0.0), dtype=torch.float64)
        return torch.nn.functional.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).double().mean().item()

    scaling = fit_scaling(log_probs, labels)
    assert scaling.temperature == pytest.approx(T_MIN, abs=1e-6)
    nll, accuracy = nll_and_accuracy(scaling)
    nll_before, accuracy_before = nll_and_accuracy(Scaling(1.0, None))
    assert accuracy_before == pytest.approx(0.73, abs=0.02)
    assert nll < nll_before - 0.04  # 0.673 → 0.620 (the clamped fit: 0.654)
    assert accuracy >= accuracy_before  # 0.732 (the clamped fit: 0.547)


def test_macro_f1_counts_a_class_that_is_predicted_but_absent_from_the_data():
    # Two positive texts, one read as negative: negative F1 0 (1 false positive), positive F1 2/3. The
    # macro average had left negative out (0.6667) while the table beside it listed both.
    report = classification_report([1, 1], [0, 1], ["negative", "positive"])
    assert report["per_class"]["negative"]["f1"] == 0.0
    assert report["per_class"]["positive"]["f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["macro_f1"] == pytest.approx(1 / 3, abs=1e-6)
    # A class neither in the data nor predicted stays out (a 3-class model on 2-class data), and has no
    # figures: it was listed with F1 0 beside a macro-F1 of 1 that leaves it out.
    report = classification_report([0, 1], [0, 1], ["negative", "positive", "neutral"])
    assert report["macro_f1"] == 1.0
    assert report["per_class"]["neutral"] == {"precision": None, "recall": None, "f1": None, "support": 0}
    from rich.console import Console

    console = Console(width=100, record=True)
    console.print(report_table(report))
    assert [[cell.strip() for cell in line.split("│")[2:5]] for line in console.export_text().splitlines() if line.startswith("│ neutral")] == [["–"] * 3]


def test_the_report_table_of_five_classes_keeps_its_figures_in_80_columns():
    # Every column shrank alike: the figures read "0.92…" and the headers "prec…".
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 5, 500).tolist()
    report = classification_report(truth, [t if rng.random() < 0.9 else int(rng.integers(0, 5)) for t in truth], list("12345"))
    from rich.console import Console

    console = Console(width=80, record=True)
    console.print(report_table(report))
    text = console.export_text()
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    for label in "12345":
        row = next(line for line in text.splitlines() if line.startswith(f"│ {label} "))
        assert [float(cell) for cell in row.split("│")[2:5]] == [round(report["per_class"][label][k], 4) for k in ("precision", "recall", "f1")]
