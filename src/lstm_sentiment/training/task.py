"""The Lightning module: cross-entropy training, validation accuracy and macro-F1."""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from lstm_sentiment.config import TrainConfig
from lstm_sentiment.models.classifier import SentimentLSTM


class SentimentTask(L.LightningModule):
    """Trains a :class:`SentimentLSTM`; logs ``train_loss``, ``val_loss``, ``val_acc``, ``val_macro_f1``.

    torchmetrics objects accumulate over the epoch and are reduced across processes under DDP.

    Args:
        class_weights: float32 (C,), each class's weight in the training loss (:func:`class_weights`);
            None: every text weighs 1. Validation's loss is unweighted.
    """

    def __init__(self, model: SentimentLSTM, num_classes: int, config: TrainConfig, class_weights: torch.Tensor | None = None) -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.val_f1 = MulticlassF1Score(num_classes, average="macro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.register_buffer("class_weights", class_weights, persistent=False)  # moves to the device with the model

    def training_step(self, batch, batch_idx):
        ids, lengths, labels = batch
        loss = F.cross_entropy(self.model(ids, lengths), labels, weight=self.class_weights)
        self.log("train_loss", loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=len(labels), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        ids, lengths, labels = batch
        logits = self.model(ids, lengths)
        self.log("val_loss", F.cross_entropy(logits, labels), batch_size=len(labels), sync_dist=True)
        self.val_f1(logits, labels)
        self.val_acc(logits, labels)
        self.log("val_macro_f1", self.val_f1, prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def configure_optimizers(self):
        adamw = optimizer(self.model, self.config)
        if not self.config.plateau_factor:
            return adamw
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(adamw, mode="max", factor=self.config.plateau_factor, patience=0)
        return {"optimizer": adamw, "lr_scheduler": {"scheduler": plateau, "monitor": "val_macro_f1"}}


def class_weights(label_ids: list[int], num_classes: int, how: str) -> torch.Tensor | None:
    """The training loss's class weights (:attr:`TrainConfig.class_weight`): None for "none"; for
    "balanced", float32 (C,) with w_c = n / (C · n_c), n_c the training texts of class c (every class is in
    the training data: :func:`~lstm_sentiment.data.dataset.check_trainable`)."""
    if how == "none":
        return None
    counts = torch.bincount(torch.tensor(label_ids), minlength=num_classes).float()
    return len(label_ids) / (num_classes * counts)


def optimizer(model: SentimentLSTM, config: TrainConfig, others: list | None = None) -> torch.optim.AdamW:
    """AdamW over the network's trainable parameters and ``others`` (e.g. a language-model head).

    Word vectors get no weight decay (it would pull pretrained vectors toward zero) and, when fine-tuned,
    a lower rate; the learned <unk> vector trains at the full rate.
    """
    params = dict((n, p) for n, p in model.named_parameters() if p.requires_grad)
    table = [params.pop(n) for n in ("embedding.weight",) if n in params]
    unk = [params.pop(n) for n in ("unk_vector",) if n in params]
    return torch.optim.AdamW(
        [
            {"params": table, "weight_decay": 0.0, "lr": config.lr * config.embedding_lr_scale},
            {"params": unk, "weight_decay": 0.0},
            {"params": list(params.values()) + list(others or []), "weight_decay": config.weight_decay},
        ],
        lr=config.lr,
    )
