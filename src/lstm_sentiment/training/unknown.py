"""The ``<unk>`` vector of a trained bundle fitted again, alone, so that unknown tokens carry no sentiment.

A network trained with frozen word vectors learns one ``<unk>`` vector from the few tokens that have no
row: in the en training texts, emoji and symbols. That vector had come to lean positive: 😡😡😡 read
positive 0.905 with the en model, 최악의 영화 ("the worst film") 0.870. Word dropout during training
(:attr:`ModelConfig.word_dropout`) teaches ``<unk>`` as "any word", but it retrains the whole network,
and the en model retrained so was level on validation and 0.6–1.3 points behind on SST-2's test split in
two runs (docs/recipe.md, the twenty-second and twenty-fourth rounds). Here the rest of the network stays as trained: for one epoch
over the training texts, each word is replaced by ``<unk>`` with probability ``share`` and only the
``<unk>`` vector learns (the cross-entropy of :class:`~lstm_sentiment.training.task.SentimentTask`).
A text without ``<unk>`` keeps its scores to the last bit.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import lightning as L

from lstm_sentiment.bundle import bundle_name, load_bundle, save_bundle
from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import LabelledTexts
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import check_known_labels
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.training.batches import bucketed_loader
from lstm_sentiment.training.card import model_card
from lstm_sentiment.training.task import SentimentTask
from lstm_sentiment.training.train import Scorer

# Adam's rate for the one vector (AdamW, no weight decay on it): in its one epoch over the en training texts
# 1e-2 moved the en model's <unk> by 3.9 (L2), and its texts of unknown tokens alone from 0.82–0.91 to 0.56.
UNK_LR = 1e-2


def fit_unknown_vector(network: SentimentLSTM, id_lists: list[list[int]], label_ids: list[int], share: float, seed: int = 0) -> float:
    """Fit ``network.unk_vector`` alone for one epoch; returns how far it moved (L2 norm, float).

    Args:
        network: a :class:`SentimentLSTM` with frozen word vectors (it has ``unk_vector``); left in eval mode.
        id_lists: the training texts' token ids, none empty; ``label_ids`` their class ids.
        share: in (0, 1), the probability of replacing each word by ``<unk>``.
        seed: seeds the batches' order and the replacements (Lightning's ``seed_everything``).
    Raises:
        SentimentError: a network whose word vectors were fine-tuned (no ``<unk>`` vector of its own).
    """
    if not hasattr(network, "unk_vector"):
        raise SentimentError("the network fine-tuned its word vectors: its <unk> is a row of the table, not a vector of its own")
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), got {share!r}")
    L.seed_everything(seed, workers=True, verbose=False)
    trainable = {name: p.requires_grad for name, p in network.named_parameters()}
    for name, p in network.named_parameters():
        p.requires_grad_(name == "unk_vector")
    config, before = network.config, network.unk_vector.detach().clone()
    network.config = replace(config, word_dropout=share)
    try:
        task = SentimentTask(network, network.classifier.out_features, TrainConfig(lr=UNK_LR, seed=seed))
        loader = bucketed_loader(id_lists, label_ids, task.config.batch_size, True, seed)
        trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)
        # Word dropout acts in training mode only; the output layer's dropout stays off, so that <unk> is fitted
        # to the network as it predicts (Lightning keeps each module's mode, and warns of those in eval mode).
        network.train()
        network.dropout.eval()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="You defined a `validation_step` but have no `val_dataloader`")
            warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
            trainer.fit(task, loader)
    finally:
        network.config = config
        for name, p in network.named_parameters():
            p.requires_grad_(trainable[name])
        network.cpu().eval()
    return float((network.unk_vector.detach() - before).norm())


def refit_bundle(
    path: Path,
    train_data: LabelledTexts,
    share: float,
    seed: int = 0,
    *,
    valid_data: LabelledTexts,
    test_data: LabelledTexts | None = None,
    domain_tests: dict[str, LabelledTexts] | None = None,
) -> dict:
    """Fit the ``<unk>`` vector of the bundle at ``path`` on ``train_data`` (:func:`fit_unknown_vector`),
    score it again and write it back in place (atomically); returns its metrics.

    Args:
        path: a bundle directory; its temperature and class biases are kept (fitted on validation, whose
            texts hold almost no ``<unk>``).
        train_data: the texts it was trained on.
        valid_data, test_data, domain_tests: held-out texts, as :func:`~lstm_sentiment.training.train.train`
            takes them; the reports of ``metrics.json`` of those given are scored again (validation always:
            the card gives its figures after this step).
    Raises:
        SentimentError: ``path`` is no bundle or a damaged one; ``train_data`` holds labels it does not know.
    """
    network, vocab, tokenizer, config = load_bundle(path)
    check_known_labels(train_data, config["id2label"])
    index = {label: i for i, label in enumerate(config["id2label"])}
    encoded = [(vocab.encode(tokenizer(text).tokens), index[label]) for text, label in zip(train_data.texts, train_data.labels)]
    encoded = [(ids, label) for ids, label in encoded if ids]
    moved = fit_unknown_vector(network, [ids for ids, _ in encoded], [label for _, label in encoded], share, seed)
    scorer = Scorer(network, vocab, tokenizer, list(config["id2label"]), f"the model of {path}")
    scorer.temperature = float(config.get("temperature", 1.0))
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    metrics["validation"] = scorer.evaluate(valid_data)
    if test_data is not None:
        metrics["test"] = scorer.evaluate(test_data)
    if domain_tests:
        metrics["domains"] = {name: scorer.evaluate(data) for name, data in domain_tests.items()}
    metrics["unk_refit"] = {"share": share, "seed": seed, "texts": len(encoded), "moved": round(moved, 4)}
    configs = (ModelConfig.from_dict(config["model"]), DataConfig.from_dict(config["data"]), TrainConfig.from_dict(config["train"]))
    info = {**config, "unk_refit": metrics["unk_refit"]}
    card = model_card(bundle_name(path), list(config["id2label"]), configs, metrics, info)
    log = path / "training_log.csv"
    save_bundle(path, network, vocab, list(config["id2label"]), configs, metrics, info, card, log.read_text(encoding="utf-8") if log.is_file() else None)
    return metrics
