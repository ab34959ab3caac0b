"""The sentiment network: word ids → word vectors → LSTM, one word per step → pooled states → logits."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstm_sentiment.config import ModelConfig
from lstm_sentiment.core import LSTM
from lstm_sentiment.text.vocab import PAD_ID, UNK_ID
from lstm_sentiment.vectors.subword import ngram_rows


class SentimentLSTM(nn.Module):
    """Embedding → :class:`~lstm_sentiment.core.LSTM` → pooling over valid steps → dropout → linear.

    Pooling only reads steps before each sequence's length, so padding never changes a prediction.

    Args:
        vocab_size: V, rows of the embedding (id 0 ``<pad>``, id 1 ``<unk>``).
        num_classes: C.
        config: sizes and pooling.
        vectors: optional float (V, E) initial word vectors.
        ngram_vectors: optional float (B, E) character n-gram rows (B = ``config.subword_buckets``), from
            which a word outside the vocabulary gets a vector at prediction time (see :meth:`add_word`).
    """

    def __init__(
        self, vocab_size: int, num_classes: int, config: ModelConfig, vectors: Tensor | None = None, ngram_vectors: Tensor | None = None
    ) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=PAD_ID)
        if vectors is not None:
            with torch.no_grad():
                self.embedding.weight.copy_(vectors)
        if config.subword_buckets:
            # A buffer, not a Parameter: saved in the bundle, never trained.
            self.register_buffer("ngram_vectors", torch.zeros(config.subword_buckets, config.embedding_dim))
            if ngram_vectors is not None:
                self.ngram_vectors.copy_(ngram_vectors)
        # Vectors of words met after training, ids vocab_size, vocab_size + 1, …; filled by add_word, never saved.
        self.register_buffer("added_vectors", torch.zeros(0, config.embedding_dim), persistent=False)
        self.added = 0
        if config.freeze_embeddings:
            # Pretrained rows stay fixed and cost no gradient; <unk> gets its own learned vector.
            self.embedding.weight.requires_grad_(False)
            self.unk_vector = nn.Parameter(self.embedding.weight[UNK_ID].clone())
        self.lstm = LSTM(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            forget_bias=config.forget_bias,
            init=config.init,
            t_max=config.chrono_t_max if config.init == "chrono" else None,
        )
        width = self.lstm.num_directions * config.hidden_size
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * width if config.pooling == "mean+max" else width, num_classes)

    def forward(self, token_ids: Tensor, lengths: Tensor, return_trace: bool = False):
        """Class scores for a padded batch.

        Args:
            token_ids: int64 (N, L), padded with ``PAD_ID``.
            lengths: int64 (N,), tokens per text, each ≥ 1.
            return_trace: also return the LSTM's gate trace (explicit path, same weights).
        Returns:
            ``logits`` float (N, C), or ``(logits, trace)``.
        """
        result = self.steps(token_ids, lengths, return_trace)
        output, (h_n, _) = result[0], result[1]
        logits = self.classifier(self.dropout(self.pool(output, h_n, lengths)))
        return (logits, result[2]) if return_trace else logits

    def steps(self, token_ids: Tensor, lengths: Tensor, return_trace: bool = False):
        """The LSTM's states at every word: word dropout (in training), word vectors, LSTM.

        Args and shapes as :meth:`forward`.
        Returns:
            ``(output, (h_n, None))`` or, with ``return_trace``, ``(output, (h_n, None), trace)``:
            ``output`` float (N, L, D·H), the last layer's h_t, zero past each length (see
            :class:`~lstm_sentiment.core.LSTM`).
        """
        if self.training and self.config.word_dropout > 0:
            drop = (torch.rand(token_ids.shape, device=token_ids.device) < self.config.word_dropout) & (token_ids != PAD_ID)
            token_ids = token_ids.masked_fill(drop, UNK_ID)
        x = self.embed(token_ids)  # (N, L, E)
        if self.config.freeze_embeddings:
            x = torch.where((token_ids == UNK_ID).unsqueeze(-1), self.unk_vector, x)
        # Pooling reads only output and h_n; without c_n the CPU path can use oneDNN on the padded batch.
        return self.lstm(x, lengths, return_trace=return_trace, cell_state=False)

    def embed(self, token_ids: Tensor) -> Tensor:
        """Word vectors float (N, L, E) of ids (N, L): vocabulary rows, and for ids ≥ V the rows of words
        added by :meth:`add_word`."""
        # .float(): the tables may be kept in float16 for prediction (keep_tables_in_float16); a no-op otherwise.
        if not self.added:  # the usual case: no comparison over the batch
            return self.embedding(token_ids).float()
        vocab_size = self.embedding.num_embeddings
        added = token_ids >= vocab_size
        if not bool(added.any()):
            return self.embedding(token_ids).float()
        x = self.embedding(token_ids.masked_fill(added, PAD_ID)).float()
        x[added] = self.added_vectors[token_ids[added] - vocab_size]
        return x

    def keep_tables_in_float16(self) -> None:
        """Hold the word-vector and n-gram tables in float16, for prediction only (no training after).

        Half their memory in every process that predicts (72 → 36 MB for the shipped zh model), and the
        same numbers: a bundle stores these tables in float16 (``bundle.HALF_PRECISION``), so their float32
        copies held nothing more, and every lookup is widened back to float32 exactly.
        """
        self.embedding.half()
        if self.config.subword_buckets:
            self.ngram_vectors = self.ngram_vectors.half()

    def subword_vector(self, word: str) -> Tensor | None:
        """float32 (E,): mean of the word's character n-gram rows (fastText); None without a subword table
        or for a word with no letter, digit or Han character."""
        if not self.config.subword_buckets:
            return None
        rows = ngram_rows(word, self.config.subword_min_n, self.config.subword_max_n, self.config.subword_buckets)
        return self.ngram_vectors[rows].float().mean(0) if rows else None

    def add_word(self, vector: Tensor) -> int:
        """Give a word met after training the vector ``vector`` (E,); returns its id (≥ V).

        Storage doubles when full, so adding n words costs O(n) copies in all.
        """
        if self.added == self.added_vectors.size(0):
            grown = torch.zeros(max(64, 2 * self.added), self.added_vectors.size(1), device=self.added_vectors.device)
            grown[: self.added] = self.added_vectors
            self.added_vectors = grown
        self.added_vectors[self.added] = vector
        self.added += 1
        return self.embedding.num_embeddings + self.added - 1

    def clear_added_words(self) -> None:
        """Drop the words :meth:`add_word` gave (their ids are free again), and the memory they held."""
        self.added_vectors = self.added_vectors.new_zeros(0, self.added_vectors.size(1))
        self.added = 0

    def pool(self, output: Tensor, h_n: Tensor, lengths: Tensor) -> Tensor:
        """One vector per text from the step outputs (N, L, D·H), zero past each length."""
        pooling = self.config.pooling
        if pooling == "last":
            d = self.lstm.num_directions
            return torch.cat(list(h_n[-d:]), dim=-1)  # forward at its last step, reverse at step 0
        lengths = lengths.to(output.device)
        parts = []
        if pooling in ("mean", "mean+max"):
            parts.append(output.sum(1) / lengths.unsqueeze(1).to(output.dtype))
        if pooling in ("max", "mean+max"):
            pad = torch.arange(output.size(1), device=output.device)[None, :] >= lengths[:, None]
            parts.append(output.masked_fill(pad.unsqueeze(-1), float("-inf")).amax(1))
        return torch.cat(parts, dim=-1)
