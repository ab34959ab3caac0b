"""The model card (``README.md`` of a bundle): data, settings and measured figures."""

from __future__ import annotations

import json

from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import SENTENCE_MIN_CHARS
from lstm_sentiment.training.calibration import BIAS_MIN_SUPPORT, T_MIN_SUPPORT, bound_note


def _report_rows(name: str, report: dict | None) -> list[str]:
    if report is None:
        return []
    rows = [f"| {name} | {report['n']} | {report['accuracy']:.4f} | {report['macro_f1']:.4f} |"]
    return rows


def _coverage(emb: dict, frozen: bool) -> str:
    if "token_coverage" not in emb:
        return f"{emb['words_added']} word{'s' * (emb['words_added'] != 1)} added from the new data"
    middle = f"{emb['subword_token_share']:.1%} a subword vector" if "subword_token_share" in emb else f"{emb['learned_token_share']:.1%} {scratch_vector(frozen)}"
    return (
        f"of the training and validation tokens, {emb['token_coverage']:.1%} have a pretrained row, "
        f"{middle} and {emb['unk_token_share']:.1%} are `<unk>`"
    )


def scratch_vector(frozen: bool) -> str:
    """What a word without a pretrained row reads: frozen vectors keep its random start (the whole table
    is fixed), so "learned from scratch" was said of a vector that never moved."""
    return "a random vector, fixed as the vectors are (--fine-tune-embeddings learns it)" if frozen else "a vector learned from scratch"


def _cap(cap: int | dict[str, int], domains: list[str]) -> str:
    """A per-domain cap as the card writes it: "12,000", "40,000 (sst2), 16,000 (imdb)", or "12,000
    (shopping), the other domains whole" where ``domains`` holds one the cap does not name."""
    if isinstance(cap, dict):
        whole = ", the other domains whole" if set(domains) - set(cap) else ""
        return ", ".join(f"{n:,} ({domain})" for domain, n in cap.items()) + whole
    return f"{cap:,}"


def _calibration_lines(calibration: dict | None) -> list[str]:
    if calibration is None:
        return []
    # Bundles made before "n" was recorded had it fitted only on enough texts.
    if calibration.get("n", T_MIN_SUPPORT) < T_MIN_SUPPORT:
        return [
            f"Scores are not temperature-scaled (T = 1): {calibration['source']} holds {calibration['n']} texts, fewer than the"
            f" {T_MIN_SUPPORT} a temperature is fitted on; expected calibration error ({calibration['bins']} bins) there {calibration['ece_before']:.4f}.",
            "",
        ]
    lines = [f"Scores are temperature-scaled (Guo et al. 2017): T = {calibration['temperature']:.3f}, fitted on {calibration['source']};"]
    # Bundles made before the class biases have no "logit_bias"; None means they were not fitted.
    if "logit_bias" in calibration and calibration["logit_bias"] is None:
        lines.append(
            f"no class biases: a class has fewer than {BIAS_MIN_SUPPORT} validation texts; validation accuracy"
            f" {calibration['accuracy_before']:.4f} (a temperature alone changes no label);"
        )
    elif "logit_bias" in calibration:
        biases = ", ".join(f"{label} {b:+.3f}" for label, b in calibration["logit_bias"].items())
        lines.append(
            f"with it, class biases added to the logits / T ({biases}; folded into the output layer) move the decision boundary:"
            f" validation accuracy {calibration['accuracy_before']:.4f} before, {calibration['accuracy_after']:.4f} after;"
        )
    note = bound_note(calibration)
    return lines + [
        f"expected calibration error ({calibration['bins']} bins) there {calibration['ece_before']:.4f} before, {calibration['ece_after']:.4f} after."
        + (f" Note: {note}." if note else ""),
        "",
    ]


def _base_lines(metrics: dict, source: str) -> list[str]:
    """For a model fine-tuned on the same labels: its base's score on this validation split, before training."""
    base = metrics.get("base_validation_macro_f1")
    if base is None:
        return []
    now = metrics["validation"]["macro_f1"]
    verdict = "above" if now > base else "not above"
    return [f"Fine-tuned from the {source}: the base scored validation macro-F1 {base:.4f} before training, this model {now:.4f} ({verdict} it).", ""]


def model_card(name: str, id2label: list[str], configs: tuple[ModelConfig, DataConfig, TrainConfig], metrics: dict, info: dict) -> str:
    """Markdown model card of a trained bundle."""
    model_cfg, data_cfg, train_cfg = configs
    counts = info["training_data"]["counts"]
    emb = info["embeddings"]
    domains = list(metrics.get("domains", {}))
    lines = [
        f"# Model card: {name}",
        "",
        "Sentence sentiment: words → word vectors → LSTM (one word per time step) → pooled states → linear.",
        "",
        "## Data",
        "",
        f"- train: {info['training_data']['train']}",
        f"- validation: {info['training_data']['validation']}",
        f"- test: {info['training_data']['test'] or 'none'}",
        f"- labels (id order): {', '.join(id2label)}",
        *[f"- source: {line}" for line in info.get("provenance", [])],
        *([f"- training texts per domain: at most {_cap(info['domain_cap']['train'], domains)}; validation texts per domain: at most {_cap(info['domain_cap']['validation'], domains)} (stratified samples)",
           "- no validation or test text of any domain is a training text of another, spaces and stops at either end aside (the sources share texts; lstm_sentiment.data.dataset.without_cross_leaks)"] if "domain_cap" in info else []),
        *[f"- the training texts of {domain} given {weight} times (lstm_sentiment.training.shipped.DOMAIN_WEIGHT)" for domain, weight in info.get("domain_weight", {}).items()],
        *([f"- train also holds {info['sentences']:,} sentences of {SENTENCE_MIN_CHARS} characters or more cut from its texts holding two or more, each labelled as its text, none a held-out text (lstm_sentiment.data.dataset.with_sentences)"] if info.get("sentences") else []),
        "",
        "| split | " + " | ".join(id2label) + " |",
        "|---|" + "---:|" * len(id2label),
        *[f"| {split} | " + " | ".join(str(c[label]) for label in id2label) + " |" for split, c in counts.items()],
        "",
        "## Settings",
        "",
        f"- model: `{json.dumps(model_cfg.to_dict())}`",
        f"- data: `{json.dumps(data_cfg.to_dict())}`",
        f"- train: `{json.dumps(train_cfg.to_dict())}`",
        f"- word vectors: {emb['source']}; vocabulary {emb['vocab_types']} words; {_coverage(emb, model_cfg.freeze_embeddings)}",
        "",
        "## Figures",
        "",
        "| split | n | accuracy | macro-F1 |",
        "|---|---:|---:|---:|",
        *_report_rows("validation", metrics["validation"]),
        *_report_rows("test", metrics["test"]),
        *[row for name, report in metrics.get("domains", {}).items() for row in _report_rows(f"test: {name}", report)],
        "",
        *_base_lines(metrics, emb["source"]),
        *_calibration_lines(metrics.get("calibration")),
        *_unk_refit_lines(info.get("unk_refit"), metrics["validation"]),
        f"Best epoch {metrics['best_epoch']} of {metrics['epochs_run']} (counted from 0); training took {metrics['train_seconds']} s.",
        "Per-class precision, recall, F1 and the confusion matrix are in `metrics.json`; per-epoch figures in",
        "`training_log.csv`.",
        "",
    ]
    return "\n".join(lines)


def _unk_refit_lines(refit: dict | None, validation: dict) -> list[str]:
    if not refit:
        return []
    # The calibration lines above are the figures the temperature and biases were fitted with, before this step;
    # refit_bundle scores validation again, and these are its figures.
    return [
        f"After training, the `<unk>` vector alone was fitted for one epoch on the {refit['texts']:,} training texts with",
        f"{refit['share']:.0%} of their words replaced by `<unk>` (the rest of the network frozen; it moved by {refit['moved']}, L2 norm):",
        "a text of unknown tokens alone scores near even between the classes, one without `<unk>` as before (lstm_sentiment.training.unknown)."
        f" Validation after this step: accuracy {validation['accuracy']:.4f}, expected calibration error {validation['ece']:.4f}.",
        "",
    ]
