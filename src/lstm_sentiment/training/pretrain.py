"""Language-model pretraining of the sentiment network's LSTM on unlabelled text (Dai & Le 2015; Howard &
Ruder 2018, ULMFiT).

Before it sees a label, the LSTM learns to predict each next word from its forward states and each previous
word from its reverse states, so that h_t carries what the context says; the classifier is then trained
from these weights. The prediction heads are an adaptive softmax (Grave et al. 2017,
``torch.nn.AdaptiveLogSoftmaxWithLoss``) over the most frequent words, the rest one "other" class; they are
dropped after pretraining.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Sequence

import lightning as L
import torch
from torch import Tensor, nn

from lstm_sentiment import interrupt
from lstm_sentiment.config import TrainConfig
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.text.vocab import PAD_ID, UNK_ID
from lstm_sentiment.training.batches import bucketed_loader
from lstm_sentiment.training.task import optimizer

log = logging.getLogger("lstm_sentiment")
# Frequency ranks where the adaptive softmax's clusters start: the head scores the 2,000 most frequent
# words and two clusters, so most steps cost a 2,002-way softmax instead of a V-way one.
CUTOFFS = (2_000, 8_000)


class LanguageModelTask(L.LightningModule):
    """Next-word (forward direction) and previous-word (reverse direction) prediction from the LSTM's h_t.

    Args:
        model: the network; its LSTM (and word vectors, when not frozen) are trained in place.
        targets: int64 (V,), the class of every vocabulary id: 0 … K−1 for the K most frequent words,
            K for every other word (``<unk>`` included).
        config: optimisation settings (as for the classifier).
    Logs ``lm_loss`` and ``lm_val_loss`` (mean negative log-likelihood per predicted word, nats).
    """

    def __init__(self, model: SentimentLSTM, targets: Tensor, config: TrainConfig) -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.register_buffer("targets", targets)
        classes = int(targets.max()) + 1
        cutoffs = [c for c in CUTOFFS if c < classes - 1] or [max(1, classes // 2)]
        hidden = model.config.hidden_size
        self.heads = nn.ModuleList(
            nn.AdaptiveLogSoftmaxWithLoss(hidden, classes, cutoffs, div_value=4.0) for _ in range(model.lstm.num_directions)
        )

    def loss(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Mean negative log-likelihood of every word given the words before it (forward) and after it
        (reverse), over a padded batch ``ids`` (N, L), ``lengths`` (N,)."""
        output = self.model.dropout(self.model.steps(ids, lengths)[0])  # (N, L, D·H)
        hidden = self.model.config.hidden_size
        valid = (torch.arange(ids.size(1), device=ids.device)[None, :] < lengths[:, None].to(ids.device))[:, 1:]
        classes = self.targets[ids]
        # h_t of the forward direction has read words ≤ t: it predicts word t+1; the reverse direction
        # has read words ≥ t: it predicts word t−1.
        losses = [self.heads[0](output[:, :-1, :hidden][valid], classes[:, 1:][valid]).loss]
        if len(self.heads) == 2:
            losses.append(self.heads[1](output[:, 1:, hidden:][valid], classes[:, :-1][valid]).loss)
        return torch.stack(losses).mean()

    def training_step(self, batch, batch_idx):
        ids, lengths, _ = batch
        loss = self.loss(ids, lengths)
        self.log("lm_loss", loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=_predicted(lengths), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        ids, lengths, _ = batch
        self.log("lm_val_loss", self.loss(ids, lengths), prog_bar=True, batch_size=_predicted(lengths), sync_dist=True)

    def configure_optimizers(self):
        return optimizer(self.model, self.config, list(self.heads.parameters()))


def _predicted(lengths) -> int:
    """Words a batch's loss is the mean over, per head: L − 1 of each text. Lightning's epoch mean weighs
    each batch by it, so the epoch's loss is per predicted word (weighed by texts, a batch of 2-word texts
    counted as much as one of 40-word texts: perplexity 24.0 where the words' mean gave 26.0)."""
    return max(1, int((lengths - 1).sum()))  # a batch of one-word texts predicts none


def target_classes(id_lists: Sequence[Sequence[int]], vocab_size: int, size: int) -> Tensor:
    """int64 (V,): class k < K for the k-th most frequent id of ``id_lists`` (K ≤ ``size``), K for the rest."""
    counts = Counter(i for ids in id_lists for i in ids)
    top = [i for i, _ in counts.most_common() if i not in (PAD_ID, UNK_ID)][:size]
    classes = torch.full((vocab_size,), len(top), dtype=torch.long)
    classes[torch.tensor(top, dtype=torch.long)] = torch.arange(len(top))
    return classes


def pretrain_language_model(
    model: SentimentLSTM, train_ids: Sequence[Sequence[int]], valid_ids: Sequence[Sequence[int]], config: TrainConfig, trainer_args: dict
) -> dict:
    """Train ``model``'s LSTM as a bidirectional language model for ``config.lm_epochs`` epochs, in place.

    Args:
        model: the network, before classifier training.
        train_ids, valid_ids: token ids of unlabelled texts (texts of one word predict nothing and are
            skipped); ``valid_ids`` only measures the loss.
        config: ``lm_epochs``, ``lm_targets`` (K), batch size, rates and seed.
        trainer_args: further ``lightning.Trainer`` arguments (accelerator, devices, callbacks…).
    Returns:
        ``{"epochs", "texts", "tokens", "targets", "valid_perplexity", "seconds"}``: the perplexity is
        exp of the mean negative log-likelihood per predicted word on ``valid_ids``.
    """
    started = time.perf_counter()
    train_ids = [ids for ids in train_ids if len(ids) > 1]
    valid_ids = [ids for ids in valid_ids if len(ids) > 1]
    task = LanguageModelTask(model, target_classes(train_ids, model.embedding.num_embeddings, config.lm_targets), config)

    def loader(id_lists, shuffle):
        return bucketed_loader(id_lists, [0] * len(id_lists), config.batch_size if shuffle else 256, shuffle, config.seed)

    trainer = L.Trainer(max_epochs=config.lm_epochs, gradient_clip_val=config.grad_clip, **trainer_args)
    interrupt.fit(trainer, task, loader(train_ids, True), loader(valid_ids, False) if valid_ids else None)
    valid_loss = float(trainer.callback_metrics.get("lm_val_loss", float("nan")))
    result = {
        "epochs": config.lm_epochs,
        "texts": len(train_ids),
        "tokens": sum(map(len, train_ids)),
        "targets": int(task.targets.max()) + 1,
        "valid_perplexity": round(math.exp(valid_loss), 2) if math.isfinite(valid_loss) else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
    log.info("language-model pretraining: %s", result)
    return result
