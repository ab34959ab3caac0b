"""``train``: texts → tokens → vocabulary and word vectors → Lightning training → model bundle."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from lstm_sentiment.bundle import save_bundle
from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import LabelledTexts, check_trainable, label_order
from lstm_sentiment.embeddings import embedding_matrix, load_vectors, train_word2vec
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.sentiment import SentimentModel
from lstm_sentiment.text.tokenize import Tokenizer, warn_truncated
from lstm_sentiment.text.vocab import Vocab
from lstm_sentiment.training.batches import BucketBatchSampler, EncodedTexts, collate
from lstm_sentiment.training.card import model_card

log = logging.getLogger("lstm_sentiment")


def _encode(tokenizer: Tokenizer, data: LabelledTexts) -> list[tuple[str, ...]]:
    encoded = [tokenizer(text) for text in data.texts]
    warn_truncated(sum(e.truncated for e in encoded), tokenizer.max_tokens)
    return [e.tokens for e in encoded]


def _loader(vocab: Vocab, tokens, labels, index, batch_size, shuffle, seed):
    keep = [i for i, t in enumerate(tokens) if t]  # texts with no token carry nothing to learn from
    ids = [vocab.encode(tokens[i]) for i in keep]
    dataset = EncodedTexts(ids, [index[labels[i]] for i in keep])
    sampler = BucketBatchSampler([len(x) for x in ids], batch_size, shuffle=shuffle, seed=seed)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)


def train(
    train_data: LabelledTexts,
    valid_data: LabelledTexts,
    test_data: LabelledTexts | None,
    out_dir: Path,
    model_cfg: ModelConfig = ModelConfig(),
    data_cfg: DataConfig = DataConfig(),
    train_cfg: TrainConfig = TrainConfig(),
    embeddings: Path | None = None,
    extra: dict | None = None,
) -> dict | None:
    """Train a sentiment model and write its bundle to ``out_dir``.

    Word vectors: from ``embeddings`` (word2vec/GloVe/fastText through gensim) or, when None, skip-gram
    word2vec trained on ``train_data`` only. Training: AdamW, gradient clipping, early stopping on
    validation macro-F1, best epoch kept, length-bucketed batches, per-epoch CSV log; ``train_cfg``'s
    accelerator/devices/num_nodes/strategy go to ``lightning.Trainer`` (e.g. DDP over processes).

    Returns:
        ``{"validation": report, "test": report | None, ...}`` on the main process, None on the others.
    Raises:
        SentimentError: fewer than 2 classes, a class with < 2 examples, or evaluation labels unseen in
            training.
    """
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, RichProgressBar
    from lightning.pytorch.loggers import CSVLogger

    from lstm_sentiment.training.task import SentimentTask

    started = time.perf_counter()
    check_trainable(train_data)
    id2label = label_order(train_data.labels)
    for part in (valid_data, test_data):
        unseen = sorted(set(part.labels) - set(id2label)) if part is not None else []
        if unseen:
            raise SentimentError(f"{part.source}: labels {unseen} do not occur in the training data")
    index = {label: i for i, label in enumerate(id2label)}

    L.seed_everything(train_cfg.seed, workers=True, verbose=False)
    tokenizer = Tokenizer(data_cfg.lang, data_cfg.max_tokens)
    train_tokens = _encode(tokenizer, train_data)
    valid_tokens = _encode(tokenizer, valid_data)
    vocab = Vocab.build(train_tokens, min_count=data_cfg.min_count)
    if embeddings is None:
        vectors = train_word2vec(train_tokens, model_cfg.embedding_dim, data_cfg.min_count, train_cfg.word2vec_epochs, train_cfg.seed)
        source = f"word2vec (gensim, skip-gram, {train_cfg.word2vec_epochs} epochs) trained on the training texts only"
    else:
        vectors = load_vectors(embeddings)
        model_cfg = replace(model_cfg, embedding_dim=vectors.vector_size)
        source = str(embeddings)
    matrix, coverage = embedding_matrix(vocab, vectors, train_tokens, train_cfg.seed)
    log.info("vocabulary %d words; vectors: %s; coverage %s", len(vocab), source, coverage)

    model = SentimentLSTM(len(vocab), len(id2label), model_cfg, vectors=matrix)
    task = SentimentTask(model, len(id2label), train_cfg)
    train_loader = _loader(vocab, train_tokens, train_data.labels, index, train_cfg.batch_size, True, train_cfg.seed)
    valid_loader = _loader(vocab, valid_tokens, valid_data.labels, index, 256, False, 0)

    with tempfile.TemporaryDirectory(prefix="lstm-sentiment-train-") as work:
        checkpoint = ModelCheckpoint(dirpath=Path(work) / "checkpoints", monitor="val_macro_f1", mode="max", save_top_k=1, save_weights_only=True)
        trainer = L.Trainer(
            max_epochs=train_cfg.epochs,
            accelerator=train_cfg.accelerator,
            devices=int(train_cfg.devices) if train_cfg.devices.isdigit() else train_cfg.devices,
            num_nodes=train_cfg.num_nodes,
            strategy=train_cfg.strategy,
            gradient_clip_val=train_cfg.grad_clip,
            callbacks=[EarlyStopping("val_macro_f1", mode="max", patience=train_cfg.patience), checkpoint, RichProgressBar(console_kwargs={"stderr": True})],
            logger=CSVLogger(work, name="log", version=0),
            deterministic=True,
            use_distributed_sampler=False,  # BucketBatchSampler splits batches across processes itself
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=10,
        )
        trainer.fit(task, train_loader, valid_loader)
        if not trainer.is_global_zero:
            return None
        best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)["state_dict"]
        model.load_state_dict({k.removeprefix("model."): v for k, v in best.items() if k.startswith("model.")})
        model.cpu().eval()
        trained = SentimentModel(model, vocab, tokenizer, {"id2label": id2label}, out_dir)
        metrics = {
            "validation": trained.evaluate(valid_data),
            "test": trained.evaluate(test_data) if test_data is not None else None,
            "best_epoch": _best_epoch(checkpoint),
            "epochs_run": trainer.current_epoch,
            "train_seconds": round(time.perf_counter() - started, 1),
        }
        info = {
            "training_data": {
                "train": train_data.source,
                "validation": valid_data.source,
                "test": test_data.source if test_data is not None else None,
                "counts": {
                    name: {label: part.labels.count(label) for label in id2label}
                    for name, part in (("train", train_data), ("validation", valid_data), ("test", test_data))
                    if part is not None
                },
            },
            "embeddings": {"source": source, **coverage},
            **(extra or {}),
        }
        card = model_card(out_dir.name, id2label, (model_cfg, data_cfg, train_cfg), metrics, info)
        save_bundle(out_dir, model, vocab, id2label, (model_cfg, data_cfg, train_cfg), metrics, info, card, Path(work) / "log" / "version_0" / "metrics.csv")
    return metrics


def _best_epoch(checkpoint) -> int:
    """Epoch of the kept checkpoint, read from Lightning's file name ``epoch=E-step=S.ckpt``."""
    name = Path(checkpoint.best_model_path).stem
    return int(name.split("-")[0].split("=")[1])
