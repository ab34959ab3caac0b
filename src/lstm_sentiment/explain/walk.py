"""The textbook walk-through of one sentence through a trained model, measured rather than drawn.

For each token t (1-based, as textbooks count) it records what the LSTM did at that step, for every layer
and direction: the mean and the most active units of the forget gate f_t, input gate i_t, candidate g_t
and output gate o_t, and the norms ‖c_t‖, ‖h_t‖, ‖c_t − c_{t−1}‖. Beside that, two model-level views:

- the running prediction: the model's probabilities for the first t tokens alone, i.e. what it would
  say if the sentence stopped there;
- word contributions (occlusion, Zeiler & Fergus 2014): how much the predicted label's probability drops
  when token t alone is replaced by ``<unk>``; for a token read as ``<unk>`` already, when it is left out
  (replaced by itself it changed nothing, and three emoji that turned a text negative showed 0 each while
  the words they outweighed were named as what mattered).

Fidelity: the running prediction of all prefixes is one call of :meth:`SentimentModel.probabilities`,
the same path :meth:`SentimentModel.predict` runs, so the last step is ``predict``'s score up to float32
rounding (scored in another batch, the last bits may differ: ~1e-7). Gate values
come from the explicit path (``return_trace=True``) over the same weights; the largest difference between
its probabilities and ``predict``'s is kept in ``fidelity`` so a reader can check the two paths agree.

Precision: the running prediction and the contributions run at the model's precision, as ``predict``
does (bfloat16 for a model loaded with ``precision="bfloat16"``); the gate trace always runs float32, so
with a bfloat16 model ``fidelity`` also holds the rounding of bfloat16.

Shape letters: L tokens, H hidden units, C classes.
"""

from __future__ import annotations

import json
import numbers
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from lstm_sentiment.core.trace import STEP_FIELDS
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import NO_WORDS, SentimentModel, text_warning
from lstm_sentiment.text.normalize import lone_surrogate
from lstm_sentiment.text.tokenize import kept_ends, uncut_chars
from lstm_sentiment.text.vocab import UNK, UNK_ID

SCHEMA_VERSION = 1
DIRECTIONS = ("forward", "reverse")
# GateTrace field → name in the JSON, the tables and the narration (STYLE: g_t is the candidate c̃_t).
GATES = {"f": "forget_gate", "i": "input_gate", "g": "candidate", "o": "output_gate"}
STATES = {"c": "cell_state", "h": "hidden_state"}
UNIT_NAMES = {"i": "input_gate", "f": "forget_gate", "g": "candidate", "o": "output_gate", **STATES}
DEFAULT_TOP_UNITS = 3


def _r(value: float) -> float:
    # Six decimals keep the JSON readable, about ten times float32's resolution near 1 (a g_t of 0.9999998
    # reads 1.0); small values keep fewer significant digits.
    return round(float(value), 6)


def _step_index(t: int, length: int) -> int:
    """The 0-based row of step t (1-based) of ``length``; a t of 0 read the last row (Python's index -1)."""
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 1 <= t <= length:
        raise ValueError(f"t must be a step from 1 to {length}, got {t!r}")
    return int(t) - 1


def previous_cell_state(c: np.ndarray, reverse: bool) -> np.ndarray:
    """The cell state before each step, float32 (L, H) from ``c`` (L, H) in token order: c_{t−1} forward
    (the left neighbour), c_{t+1} in reverse (the right one); zeros before a direction's first step."""
    zeros = np.zeros_like(c[:1])
    return np.concatenate([c[1:], zeros]) if reverse else np.concatenate([zeros, c[:-1]])


@dataclass(frozen=True, eq=False)
class DirectionTrace:
    """One layer and one direction of the LSTM, summarised at every step (index t-1 = token t).

    The reverse direction is stored in token order like :class:`~lstm_sentiment.core.GateTrace`: its
    step t has read tokens L … t, and its c_{t−1} (the state before reading token t) is the one left
    after token t+1; both directions start from c = h = 0.

    Attributes:
        layer: k, 0 for the layer that reads the word vectors.
        direction: "forward" or "reverse".
        units: GateTrace field ("i", "f", "g", "o", "c", "h") → float32 (L, H), every unit at every step.
        means: "i", "f", "g", "o" → float32 (L,), the mean over the H units.
        top_index: gate → int64 (L, K), the K most active units (largest |value|: the most open for the
            sigmoid gates, the strongest write, either sign, for g_t), most active first.
        top_value: gate → float32 (L, K), their values.
        cell_norm: float32 (L,), ‖c_t‖ (Euclidean, over H).
        hidden_norm: float32 (L,), ‖h_t‖.
        cell_delta_norm: float32 (L,), ‖c_t − c_{t−1}‖: how much step t rewrote the cell state.
    """

    layer: int
    direction: str
    units: dict[str, np.ndarray]
    means: dict[str, np.ndarray]
    top_index: dict[str, np.ndarray]
    top_value: dict[str, np.ndarray]
    cell_norm: np.ndarray
    hidden_norm: np.ndarray
    cell_delta_norm: np.ndarray

    @classmethod
    def from_gate_trace(cls, trace, layer: int, direction: int, top_units: int) -> "DirectionTrace":
        """Summarise a :class:`~lstm_sentiment.core.GateTrace` of batch size 1 (no padding)."""
        units = {name: getattr(trace, name)[0].detach().cpu().numpy().astype(np.float32) for name in STEP_FIELDS}
        c = units["c"]  # (L, H)
        c_prev = previous_cell_state(c, reverse=direction == 1)
        k = min(top_units, c.shape[1])
        top_index, top_value = {}, {}
        for name in GATES:
            value = units[name]
            order = np.argsort(-np.abs(value), axis=1, kind="stable")[:, :k]  # (L, K)
            top_index[name] = order
            top_value[name] = np.take_along_axis(value, order, axis=1)
        return cls(
            layer=layer,
            direction=DIRECTIONS[direction],
            units=units,
            means={name: units[name].mean(axis=1) for name in GATES},
            top_index=top_index,
            top_value=top_value,
            cell_norm=np.linalg.norm(c, axis=1),
            hidden_norm=np.linalg.norm(units["h"], axis=1),
            cell_delta_norm=np.linalg.norm(c - c_prev, axis=1),
        )

    @property
    def hidden_size(self) -> int:
        """H."""
        return int(self.units["h"].shape[1])

    def __repr__(self) -> str:  # the default one printed every unit at every step (50 KB for 4 words)
        return f"DirectionTrace(layer={self.layer}, direction={self.direction!r}, steps={len(self.cell_norm)}, units={self.units['h'].shape[1]})"

    def step(self, t: int) -> dict:
        """The JSON record of step t (1-based); see :class:`Explanation` for the schema.

        Raises:
            ValueError: t outside 1..L.
        """
        j = _step_index(t, len(self.cell_norm))
        record: dict = {"t": j + 1}  # an int where t was NumPy's, which json.dumps refuses
        for name, key in GATES.items():
            record[key] = {
                "mean": _r(self.means[name][j]),
                "top_units": [{"unit": int(u), "value": _r(v)} for u, v in zip(self.top_index[name][j], self.top_value[name][j])],
            }
        record["cell_norm"] = _r(self.cell_norm[j])
        record["hidden_norm"] = _r(self.hidden_norm[j])
        record["cell_delta_norm"] = _r(self.cell_delta_norm[j])
        return record

    def to_dict(self, units: bool = True) -> dict:
        """``{"layer", "direction", "steps": [...], "units": {...}}`` (``units`` only if asked)."""
        out = {"layer": self.layer, "direction": self.direction, "steps": [self.step(t) for t in range(1, len(self.cell_norm) + 1)]}
        if units:
            out["units"] = {UNIT_NAMES[name]: np.round(self.units[name].astype(np.float64), 6).tolist() for name in STEP_FIELDS}
        return out


@dataclass(frozen=True, eq=False)
class Explanation:
    """The walk-through of one text: per-step gates, running prediction and word contributions.

    ``to_dict()`` / ``to_json()`` give the JSON form (``schema_version`` 1); t counts tokens from 1,
    units from 0; probabilities are floats in [0, 1]:

    =====================  ==========================================================================
    key                    value
    =====================  ==========================================================================
    ``text``               the input, as given
    ``lang``               tokenizer used, "zh" or "en"
    ``labels``             class names in logit order (``id2label``)
    ``label``, ``score``   predicted label and its probability: ``predict``'s (to float32 rounding)
    ``probs``              {label: probability} for the whole text
    ``truncated``          true if the text had more than ``max_tokens`` tokens and was cut as
                           ``predict`` cuts it (head and tail kept); ``note`` then says so
    ``tokens``             what the model read: each word, or ``<unk>`` for one it has no vector for
    ``words``              the tokenizer's words, unknown ones included
    ``in_vocab``           [bool], per token: read as a word (its vocabulary row, or for a word outside the
                           vocabulary the mean of its character n-gram rows), not as ``<unk>``
    ``steps``              per token: ``t``, ``token``, ``word``, ``in_vocab``, ``running_probs``
                           {label: p} for the first t tokens alone, ``running_label``, ``running_score``
    ``contributions``      per token: ``t``, ``token``, ``word``, ``delta`` = score − the predicted
                           label's probability with this token replaced by ``<unk>``, or for a token
                           read as ``<unk>``, left out (signed: > 0 the word supported the label; 0 for
                           a text of that one token)
    ``layers``             per layer: ``layer``, ``directions``: per direction ``direction``
                           ("forward"/"reverse"), ``steps`` (per token: ``t``, ``forget_gate``,
                           ``input_gate``, ``candidate`` (g_t), ``output_gate``, each ``{"mean",
                           "top_units": [{"unit", "value"}]}``; ``cell_norm`` ‖c_t‖, ``hidden_norm``
                           ‖h_t‖, ``cell_delta_norm`` ‖c_t − c_{t−1}‖) and ``units`` (every unit:
                           ``input_gate``, ``forget_gate``, ``candidate``, ``output_gate``,
                           ``cell_state``, ``hidden_state``, each [L][H])
    ``fidelity``           ``explicit_max_abs_diff``: largest |p_explicit − p_predict| over classes
    ``warning``            as ``predict`` flags it: "no known words" when no token is read as a word
                           (emoji, punctuation or numbers only), "zh text; the model reads en" (or the reverse),
                           "Cyrillic words read as <unk>" (and the like), "rare Chinese characters
                           read as <unk>", "emoji or symbols read as <unk>"
    =====================  ==========================================================================

    Attributes:
        text, lang, truncated, max_tokens, note: as above.
        words, tokens, in_vocab: tuples of length L.
        labels: class names; ``label_index`` the predicted one.
        probs: float (C,), ``predict``'s probabilities.
        running_probs: float (L, C), row t-1 for the first t tokens; the last row equals ``probs``.
        contributions: float (L,), see above.
        layers: ``layers[k][d]`` is the :class:`DirectionTrace` of layer k, direction d.
        explicit_max_abs_diff: see ``fidelity`` above.
        model: where the model was loaded from; the command line puts the name typed or routed there
            instead (zh, en, or the folder as given).
        model_reads: the script the model reads ("zh", "en"; None: both), for :attr:`warning`.
    """

    text: str
    lang: str
    words: tuple[str, ...]
    tokens: tuple[str, ...]
    in_vocab: tuple[bool, ...]
    truncated: bool
    max_tokens: int
    labels: tuple[str, ...]
    probs: np.ndarray
    running_probs: np.ndarray
    contributions: np.ndarray
    layers: tuple[tuple[DirectionTrace, ...], ...]
    explicit_max_abs_diff: float
    model: str = ""
    note: str | None = field(default=None)
    model_reads: str | None = None

    @property
    def label_index(self) -> int:
        """Index of the predicted label (argmax of ``probs``, as in ``predict``)."""
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        """The predicted label."""
        return self.labels[self.label_index]

    @property
    def score(self) -> float:
        """Probability of the predicted label: ``predict``'s ``score``."""
        return float(self.probs[self.label_index])

    def __repr__(self) -> str:  # the default one printed every array (104 KB for 4 words)
        return f"Explanation(text={self.text!r}, label={self.label!r}, score={self.score:.4f}, tokens={len(self)}, model={self.model!r})"

    def __len__(self) -> int:
        return len(self.tokens)

    def trace(self, layer: int = 0, direction: str = "forward") -> DirectionTrace:
        """One layer and direction.

        Raises:
            ValueError: no such layer or direction in this model.
            TypeError: a layer that is not an int ("0" failed on comparing int with str).
        """
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
            raise TypeError(f"layer must be an int, got {type(layer).__name__} {layer!r}")
        if not 0 <= layer < len(self.layers):
            raise ValueError(f"layer {layer} out of range: the model has {len(self.layers)} layer(s), 0 to {len(self.layers) - 1}")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be forward or reverse, got {direction!r}")
        index = DIRECTIONS.index(direction)
        if index >= len(self.layers[layer]):
            raise ValueError("the model is unidirectional: it has no reverse direction")
        return self.layers[layer][index]

    def running(self, t: int) -> tuple[str, float]:
        """(label, probability) the model gives the first t tokens (1-based).

        Raises:
            ValueError: t outside 1..L.
        """
        row = self.running_probs[_step_index(t, len(self.running_probs))]
        best = int(np.argmax(row))
        return self.labels[best], float(row[best])

    def headline(self, limit: int) -> str:
        """The text in at most ``limit`` characters, cut with "…" (a page title cut mid-word read "the plot was te").

        Raises:
            TypeError: ``limit`` is not an int (a bool, a float, a str), as :meth:`trace` refuses such a layer.
            ValueError: ``limit`` < 1 (0 gave the text less its last character).
        """
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
            raise TypeError(f"limit must be a positive int, got {limit!r}")
        if limit < 1:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        return self.text if len(self.text) <= limit else self.text[: limit - 1] + "…"

    def read_as(self, j: int) -> str:
        """Token j (0-based) as the model read it: its word, or ``<unk> (word)`` for one without a vector."""
        return self.words[j] if self.in_vocab[j] else f"<unk> ({self.words[j]})"

    def top_contributions(self, k: int = 3) -> list[int]:
        """Token indices (0-based) of the k largest |contributions|, largest first (all of them when k ≥ L).

        Raises:
            ValueError: k is not a positive int (k=-1 returned every token but the last).
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        order = sorted(range(len(self)), key=lambda j: (-abs(float(self.contributions[j])), j))
        return order[:k]

    @property
    def warning(self) -> str | None:
        """``predict``'s warning for this text (:func:`text_warning`): "no known words", a text of the
        other script than the model reads, words of a third script read as ``<unk>``, or None."""
        return text_warning(self.words, self.in_vocab, self.model_reads)

    @property
    def notices(self) -> list[tuple[str, str]]:
        """("note", the truncation note) and ("warning", :attr:`warning`), those there are: what every
        report shows beside the prediction."""
        return [(kind, text) for kind, text in (("note", self.note), ("warning", self.warning)) if text]

    def to_dict(self, units: bool = True) -> dict:
        """The JSON form (schema in the class docstring); ``units=False`` leaves out per-unit values.

        Raises:
            TypeError: ``units`` is not a bool (the string "no" read as true, as ``LSTM.forward`` refuses it).
        """
        if not isinstance(units, (bool, np.bool_)):
            raise TypeError(f"units must be True or False, got {units!r}")
        labels = list(self.labels)
        steps = []
        for j, (token, word, known) in enumerate(zip(self.tokens, self.words, self.in_vocab)):
            label, score = self.running(j + 1)
            steps.append({
                "t": j + 1,
                "token": token,
                "word": word,
                "in_vocab": known,
                "running_probs": {name: _r(p) for name, p in zip(labels, self.running_probs[j])},
                "running_label": label,
                "running_score": _r(score),
            })
        return {
            "schema_version": SCHEMA_VERSION,
            "text": self.text,
            "model": self.model,
            "lang": self.lang,
            "labels": labels,
            "label": self.label,
            "score": float(self.score),
            "probs": {name: float(p) for name, p in zip(labels, self.probs)},
            "truncated": self.truncated,
            "max_tokens": self.max_tokens,
            "note": self.note,
            "tokens": list(self.tokens),
            "words": list(self.words),
            "in_vocab": list(self.in_vocab),
            "steps": steps,
            "contributions": [
                {"t": j + 1, "token": self.tokens[j], "word": self.words[j], "delta": _r(self.contributions[j])} for j in range(len(self))
            ],
            "layers": [
                {"layer": k, "directions": [d.to_dict(units) for d in directions]} for k, directions in enumerate(self.layers)
            ],
            "fidelity": {"explicit_max_abs_diff": float(self.explicit_max_abs_diff)},
            **({"warning": self.warning} if self.warning else {}),
        }

    def to_json(self, units: bool = True, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text; see :func:`dumps`."""
        return dumps(self.to_dict(units), indent)


# A JSON array holding only numbers, as json.dumps(indent=...) spreads it over one line per number; a JSON
# string is matched first and kept whole (the text "[4,5]" came out as "[4, 5]").
_NUMBER_ARRAY = re.compile(r'"(?:[^"\\]|\\.)*"|\[([-+0-9.eE,\s]+)\]')


def dumps(data: dict, indent: int | None = 2) -> str:
    """JSON text with UTF-8 characters kept and each array of numbers on one line.

    With ``indent``, ``json.dumps`` would give every per-unit value its own line: ~400,000 lines for
    256 tokens of a bidirectional H=128 model. One row of H units per line keeps it readable.
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    if indent is not None:
        text = _NUMBER_ARRAY.sub(lambda m: m[0] if m[1] is None else "[" + ", ".join(part.strip() for part in m[1].split(",")) + "]", text)
    return text + "\n"


def signed(delta: float) -> str:
    """A contribution signed to 3 places, without a "-0.000" for a change too small to print."""
    return f"{round(float(delta), 3) + 0.0:+.3f}"  # + 0.0 turns -0.0 into 0.0


def _truncation_note(max_tokens: int) -> str:
    # Both limits, as predict's warning: 8,193 characters of one word gave two tokens, "longer than 512 tokens".
    head, tail = kept_ends(max_tokens)
    return (f"text longer than the model's maximum of {max_tokens} tokens or {uncut_chars(max_tokens):,} characters: truncated as predict does "
            f"(its head and tail kept, at most the first {head} and last {tail} tokens)")


def explain(model: SentimentModel, text: str, top_units: int = DEFAULT_TOP_UNITS) -> Explanation:
    """Walk one text through a trained model, step by step.

    Cost: one batched forward of 2L sequences (L prefixes and L occluded or shortened copies) on the path
    ``predict`` uses, plus one explicit-path forward of the text for the gate trace.

    Args:
        model: a loaded :class:`~lstm_sentiment.inference.model.SentimentModel`.
        text: one sentence or review; tokenized and truncated exactly as ``predict`` does.
        top_units: K, how many most active units to keep per gate and step (≥ 1).
    Returns:
        An :class:`Explanation`.
    Raises:
        SentimentError: empty or whitespace-only text, a text with no words once normalised
            (:data:`~lstm_sentiment.inference.model.NO_WORDS`), or one holding a lone surrogate (``"\\ud800"``).
        TypeError: ``model`` is not a loaded model (a name or path is loaded with
            ``SentimentModel.load``), or ``text`` is not a string (one text is explained at a time).
        ValueError: top_units < 1.
    """
    if not isinstance(model, SentimentModel):
        raise TypeError(f"model must be a loaded SentimentModel (SentimentModel.load({model!r}) loads one), got {type(model).__name__}")
    if not isinstance(text, str):
        raise TypeError(f"text must be one string, got {type(text).__name__}")
    if isinstance(top_units, bool) or not isinstance(top_units, numbers.Integral) or top_units < 1:
        raise ValueError(f"top_units must be a positive int, got {top_units!r}")
    top_units = int(top_units)
    if not text or not text.strip():
        raise SentimentError("empty text: nothing to explain")
    surrogate = lone_surrogate(text)
    if surrogate:  # as predict's record says it: no UTF-8 output (to_json written to a file) can hold it
        raise SentimentError(f"holds a lone surrogate ({surrogate}), not text: nothing to explain")
    text = str(text)  # a numpy str_ would stay one in the Explanation
    encoded = model.encode([text])[0]
    if not encoded.tokens:
        raise SentimentError(f"{NO_WORDS}: nothing to explain")
    words = encoded.tokens
    # Prefix t holds the first t tokens; occluded copy j has token j replaced by <unk>, or left out where
    # it is <unk> already (and not alone). One call on the path predict uses: its rows are predict's
    # numbers for those token lists.
    with model.token_ids.reading():  # the ids index words added to the model until its passes are done
        ids = model.token_ids(words)
        length = len(ids)
        prefixes = [ids[:t] for t in range(1, length + 1)]
        occluded = [ids[:j] + ([UNK_ID] if ids[j] != UNK_ID or length == 1 else []) + ids[j + 1 :] for j in range(length)]
        probs = model.probabilities(prefixes + occluded).double().numpy()  # (2L, C)
        with torch.inference_mode():
            token_ids = torch.tensor([ids], dtype=torch.long, device=model.device)
            logits, trace = model.network(token_ids, torch.tensor([length]), return_trace=True)
    if not np.isfinite(probs).all():
        # predict gives such a text an error record; a label with "score": NaN was written as JSON's NaN.
        raise SentimentError(f"non-finite scores from the model {model.path} (damaged or diverged weights): nothing to explain")
    running, occluded_probs = probs[:length], probs[length:]
    final = running[-1]
    best = int(np.argmax(final))
    contributions = final[best] - occluded_probs[:, best]
    if ids == [UNK_ID]:
        contributions[:] = 0.0  # <unk> alone, replaced by itself: exact, rather than a float32 residue

    explicit = torch.softmax(logits / model.temperature, dim=-1)[0].double().cpu().numpy()
    layers = tuple(
        tuple(DirectionTrace.from_gate_trace(gate_trace, k, d, top_units) for d, gate_trace in enumerate(layer))
        for k, layer in enumerate(trace)
    )
    max_tokens = model.tokenizer.max_tokens
    return Explanation(
        text=text,
        lang=encoded.lang,
        words=tuple(words),
        tokens=tuple(word if i != UNK_ID else UNK for word, i in zip(words, ids)),
        in_vocab=tuple(i != UNK_ID for i in ids),
        truncated=encoded.truncated,
        max_tokens=max_tokens,
        labels=tuple(model.id2label),
        probs=final,
        running_probs=running,
        contributions=contributions,
        layers=layers,
        explicit_max_abs_diff=float(np.max(np.abs(explicit - final))),
        model=str(model.path),
        note=_truncation_note(max_tokens) if encoded.truncated else None,
        model_reads=model.reads,
    )
