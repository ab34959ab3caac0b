"""Language-model pretraining: each direction predicts a word it has not read, and learns what can be learned."""

import pytest
import torch

from lstm_sentiment.config import ModelConfig, TrainConfig
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.training.pretrain import pretrain_language_model, target_classes

WORDS = 8  # ids 2 … 9; 0 is <pad>, 1 <unk>
TRAINER = {"accelerator": "cpu", "logger": False, "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}


def _perplexity(sequences):
    torch.manual_seed(0)
    model = SentimentLSTM(WORDS + 2, 2, ModelConfig(embedding_dim=8, hidden_size=24, dropout=0.0, freeze_embeddings=False))
    config = TrainConfig(lm_epochs=6, batch_size=32, lr=1e-2, embedding_lr_scale=1.0, seed=0)
    return pretrain_language_model(model, sequences[:400], sequences[400:], config, TRAINER)["valid_perplexity"]


def test_target_classes_rank_words_by_frequency():
    classes = target_classes([[5, 5, 5, 3, 3, 7, 1, 1, 1, 1]], vocab_size=9, size=2)
    # 5 then 3 are the most frequent; <unk> (1) never gets a class of its own; the rest share class 2.
    assert classes.tolist() == [2, 2, 2, 1, 2, 0, 2, 2, 2]


@pytest.mark.slow
def test_a_sequence_that_repeats_is_learned():
    # Each word follows from the one before (2, 3, …, 9, 2, …) and precedes from the one after.
    rng = torch.Generator().manual_seed(1)
    starts = torch.randint(0, WORDS, (500,), generator=rng).tolist()
    sequences = [[2 + (s + t) % WORDS for t in range(12)] for s in starts]
    assert _perplexity(sequences) < 1.5


@pytest.mark.slow
def test_no_direction_sees_the_word_it_predicts():
    # Independent uniform words: neither neighbour says anything, so the best perplexity is 8. A forward
    # state that had read word t+1 (or a reverse one word t−1) would reach about 1.
    rng = torch.Generator().manual_seed(2)
    sequences = (2 + torch.randint(0, WORDS, (500, 12), generator=rng)).tolist()
    assert _perplexity(sequences) > 0.9 * WORDS


def test_the_logged_loss_is_per_predicted_word():
    # Lightning weighed each batch's mean by its texts: 256 two-word texts counted as much as 256 of 40
    # words, and the perplexity called "per predicted word" was 24.0 where the words' mean gave 26.0.
    import lightning as L

    from lstm_sentiment.training.batches import BucketBatchSampler, EncodedTexts, collate
    from lstm_sentiment.training.pretrain import LanguageModelTask

    torch.manual_seed(0)
    model = SentimentLSTM(30, 2, ModelConfig(embedding_dim=6, hidden_size=5)).eval()
    ids = [[2 + (i % 20), 3 + (i % 17)] for i in range(256)] + [[2 + ((i * 7 + j) % 27) for j in range(40)] for i in range(256)]
    task = LanguageModelTask(model, target_classes(ids, 30, 10), TrainConfig())
    loader = torch.utils.data.DataLoader(EncodedTexts(ids, [0] * len(ids)), batch_sampler=BucketBatchSampler([len(x) for x in ids], 256, shuffle=False), collate_fn=collate)
    logged = L.Trainer(**TRAINER).validate(task, loader, verbose=False)[0]["lm_val_loss"]
    with torch.no_grad():
        per_batch = [(float(task.loss(batch_ids, lengths)), int((lengths - 1).sum())) for batch_ids, lengths, _ in loader]
    assert len(per_batch) == 2 and logged == pytest.approx(sum(loss * n for loss, n in per_batch) / sum(n for _, n in per_batch), rel=1e-5)
