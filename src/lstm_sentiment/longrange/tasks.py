"""The two long-gap tasks: the adding problem (regression) and first-word recall (sentiment).

Both ask one question: can the network carry what it read at an early step across many later steps
that say nothing? Every batch is freshly drawn from a ``torch.Generator``, so training never runs out of
data and a test set is drawn from a separate generator (the same sequence can occur in both only where
there are few of them: recall below T ≈ 8, see :func:`recall_batch`).

Shape letters: N sequences, L = T steps.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor
from torch.utils.data import IterableDataset

from .config import TEST_BATCH

# Always answering 1.0 (the mean of the target) scores Var(u_a + u_b) = 2 · Var(U[0, 1]) = 2/12.
ADDING_BASELINE_MSE = 1.0 / 6.0
# The criterion: well below the baseline, i.e. the marked values are actually being added.
ADDING_SOLVED_MSE = 0.01

POSITIVE_WORDS = ("good", "great", "excellent", "wonderful", "love", "好", "喜欢", "精彩")
NEGATIVE_WORDS = ("bad", "awful", "terrible", "boring", "hate", "差", "讨厌", "无聊")
FILLER_WORDS = ("the", "a", "movie", "film", "it", "was", "and", "of", "this", "的", "了", "电影", "这个", "我们", "看", "是")
# Token ids are positions in VOCAB: positives first, then negatives, then fillers.
VOCAB = POSITIVE_WORDS + NEGATIVE_WORDS + FILLER_WORDS
RECALL_BASELINE_ACCURACY = 0.5
RECALL_SOLVED_ACCURACY = 0.99


def _check_batch(name: str, n: int, length: int) -> None:
    # A float or a str reached torch.randint, whose error listed its overloads over ten lines.
    for value in (n, length):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} needs int n and length; got n={n!r}, length={length!r}")
    if n < 1 or length < 2:
        raise ValueError(f"{name} needs n >= 1 and length >= 2; got n={n}, length={length}")


def adding_batch(n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Draw one batch of the adding problem.

    Source: Hochreiter & Schmidhuber 1997 ("Long Short-Term Memory", experiment 4), in the form of
    Le et al. 2015 ("A Simple Way to Initialize Recurrent Networks of Rectified Linear Units") and
    Arjovsky et al. 2016 ("Unitary Evolution Recurrent Neural Networks"): each step carries a value
    u_t ~ U[0, 1) and a marker m_t ∈ {0, 1}; exactly two steps are marked, one drawn uniformly from the
    first half [0, ⌊T/2⌋) and one from the second half [⌊T/2⌋, T); the target is the sum of the two marked
    values. Always answering 1.0 scores MSE 1/6 ≈ 0.167 (:data:`ADDING_BASELINE_MSE`).

    Args:
        n: N, sequences in the batch.
        length: T ≥ 2, steps per sequence.
        generator: the CPU random stream to draw from (advanced by the call).
    Returns:
        ``(x, y)``: x float32 (N, T, 2) with ``x[..., 0]`` the values and ``x[..., 1]`` the markers;
        y float32 (N,), in [0, 2).
    Raises:
        ValueError: n or length not an int, n < 1 or length < 2.
    """
    _check_batch("adding_batch", n, length)
    half = length // 2
    values = torch.rand(n, length, generator=generator)  # (N, T)
    first = torch.randint(0, half, (n,), generator=generator)  # (N,) in the first half
    second = torch.randint(half, length, (n,), generator=generator)  # (N,) in the second half
    markers = torch.zeros(n, length)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = values[rows, first] + values[rows, second]  # (N,)
    return torch.stack([values, markers], dim=-1), target


def recall_batch(n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Draw one batch of the recall task, the sentiment form of the adding problem's question.

    Step 0 holds a clearly positive or negative word, chosen uniformly from the 16 words below; steps
    1 … T-1 hold neutral fillers, each uniform over 16 words. The label is the first word's sentiment, so
    the answer must be carried across T-1 steps of nothing; guessing scores accuracy 0.5. There are
    16^T distinct sequences, so at very short T (below about 8) test sequences also occur in training.

    Vocabulary (:data:`VOCAB`, ids in this order):
        positive (label 1): good great excellent wonderful love 好 喜欢 精彩
        negative (label 0): bad awful terrible boring hate 差 讨厌 无聊
        neutral fillers: the a movie film it was and of this 的 了 电影 这个 我们 看 是

    Args:
        n: N, sequences in the batch.
        length: T ≥ 2, steps per sequence.
        generator: the CPU random stream to draw from (advanced by the call).
    Returns:
        ``(tokens, y)``: tokens int64 (N, T), ids into :data:`VOCAB`; y int64 (N,), 1 positive, 0 negative.
    Raises:
        ValueError: n or length not an int, n < 1 or length < 2.
    """
    _check_batch("recall_batch", n, length)
    n_pos, n_neg = len(POSITIVE_WORDS), len(NEGATIVE_WORDS)
    first = torch.randint(0, n_pos + n_neg, (n,), generator=generator)  # (N,) a sentiment word
    fillers = torch.randint(n_pos + n_neg, len(VOCAB), (n, length - 1), generator=generator)  # (N, T-1)
    tokens = torch.cat([first.unsqueeze(1), fillers], dim=1)  # (N, T)
    return tokens, (first < n_pos).long()


@dataclass(frozen=True)
class TaskSpec:
    """What a task is scored on.

    Attributes:
        name: "adding" or "recall".
        metric: "mse" (lower is better) or "accuracy" (higher is better).
        baseline: the score of the trivial answer (always 1.0; a coin flip).
        threshold: a run solves a length when its test metric is below (mse) / at or above (accuracy) it.
        make_batch: ``(n, length, generator) -> (inputs, targets)``.
        criterion: the solved rule, in words, for the reports.
    """

    name: str
    metric: str
    baseline: float
    threshold: float
    make_batch: Callable[[int, int, torch.Generator], tuple[Tensor, Tensor]]
    criterion: str

    def is_solved(self, value: float) -> bool:
        """Whether a test metric meets the criterion."""
        return value < self.threshold if self.metric == "mse" else value >= self.threshold


TASK_SPECS = {
    "adding": TaskSpec(
        "adding", "mse", ADDING_BASELINE_MSE, ADDING_SOLVED_MSE, adding_batch,
        f"test MSE < {ADDING_SOLVED_MSE} (always answering 1.0 scores {ADDING_BASELINE_MSE:.3f})",
    ),
    "recall": TaskSpec(
        "recall", "accuracy", RECALL_BASELINE_ACCURACY, RECALL_SOLVED_ACCURACY, recall_batch,
        f"test accuracy >= {RECALL_SOLVED_ACCURACY} (guessing scores {RECALL_BASELINE_ACCURACY})",
    ),
}


class FreshBatches(IterableDataset):
    """An endless stream of freshly drawn training batches (use with ``DataLoader(batch_size=None)``).

    Args:
        task: the task to draw from.
        length: T, steps per sequence.
        batch_size: N, sequences per batch.
        seed: seed of the stream's own ``torch.Generator``; the same seed gives the same batches, so every
            cell of a comparison trains on identical data.
    """

    def __init__(self, task: TaskSpec, length: int, batch_size: int, seed: int) -> None:
        self.task, self.length, self.batch_size, self.seed = task, length, batch_size, seed

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        generator = torch.Generator().manual_seed(self.seed)
        while True:
            yield self.task.make_batch(self.batch_size, self.length, generator)


def train_seed(seed: int, length: int) -> int:
    """Seed of the training stream of one (seed, length); disjoint from :func:`heldout_seed`'s values."""
    return 1_000_000 * (seed + 1) + length


def heldout_seed(length: int) -> int:
    """Seed of the test set of one length, shared by every cell and seed (train seeds are ≥ 10⁶)."""
    return length


def make_test_set(task: TaskSpec, length: int, size: int, batch_size: int = TEST_BATCH) -> list[tuple[Tensor, Tensor]]:
    """The fixed test set of one length, in batches, drawn from a generator training never uses.

    Args:
        task: the task to draw from.
        length: T.
        size: total sequences.
        batch_size: sequences per test batch (the last may be smaller).
    Returns:
        A list of ``(inputs, targets)`` batches, as :attr:`TaskSpec.make_batch` returns them.
    """
    generator = torch.Generator().manual_seed(heldout_seed(length))
    sizes = [min(batch_size, size - start) for start in range(0, size, batch_size)]
    return [task.make_batch(n, length, generator) for n in sizes]
