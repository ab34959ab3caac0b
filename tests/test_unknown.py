"""The <unk> vector fitted alone after training (lstm_sentiment.training.unknown)."""

import json
import shutil

import pytest
import torch

from lstm_sentiment.config import ModelConfig
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import SentimentModel
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.text.vocab import UNK_ID
from lstm_sentiment.training.unknown import fit_unknown_vector, refit_bundle

# Ids 2..5 lean positive, 6..9 negative; every text has 6 words.
TEXTS = [[2, 3, 4, 5, 2, 3], [6, 7, 8, 9, 6, 7]] * 40
LABELS = [1, 0] * 40


def _network(freeze: bool = True) -> SentimentLSTM:
    torch.manual_seed(0)
    return SentimentLSTM(10, 2, ModelConfig(embedding_dim=6, hidden_size=5, freeze_embeddings=freeze)).eval()


def test_only_the_unk_vector_moves_and_texts_without_unk_keep_their_scores():
    network = _network()
    before = {name: value.clone() for name, value in network.state_dict().items()}
    known = torch.tensor([[2, 3, 4, 5], [6, 7, 8, 9]])
    with_unk = torch.tensor([[2, 3, UNK_ID, UNK_ID]])
    with torch.no_grad():
        known_logits, unk_logits = network(known, torch.tensor([4, 4])), network(with_unk, torch.tensor([4]))
    moved = fit_unknown_vector(network, TEXTS, LABELS, share=0.3, seed=0)
    after = network.state_dict()
    assert moved == pytest.approx(float((after["unk_vector"] - before["unk_vector"]).norm())) and moved > 0.01
    assert [name for name in before if not torch.equal(before[name], after[name])] == ["unk_vector"]
    with torch.no_grad():
        assert torch.equal(network(known, torch.tensor([4, 4])), known_logits)
        assert not torch.equal(network(with_unk, torch.tensor([4])), unk_logits)
    # Left as it was found: eval mode, no word dropout, the same parameters trainable.
    assert not network.training and network.config.word_dropout == 0.0
    assert {name for name, p in network.named_parameters() if p.requires_grad} == {name for name, p in _network().named_parameters() if p.requires_grad}


def test_the_fit_is_seeded_and_refuses_what_it_cannot_fit():
    first, second = _network(), _network()
    fit_unknown_vector(first, TEXTS, LABELS, share=0.3, seed=5)
    fit_unknown_vector(second, TEXTS, LABELS, share=0.3, seed=5)
    assert torch.equal(first.unk_vector, second.unk_vector)
    with pytest.raises(SentimentError, match="fine-tuned its word vectors"):
        fit_unknown_vector(_network(freeze=False), TEXTS, LABELS, share=0.3)
    with pytest.raises(ValueError, match=r"share must be in \(0, 1\)"):
        fit_unknown_vector(_network(), TEXTS, LABELS, share=0.0)


def test_refit_bundle_rescores_and_records_the_fit(small_bundle, small_splits, tmp_path):
    path = tmp_path / "refit"
    shutil.copytree(small_bundle[0], path)
    train, valid, _ = small_splits
    old = SentimentModel.load(path)
    plain = [text for text in valid.texts if all(t in old.vocab.stoi for t in old.tokenizer(text).tokens)]
    metrics = refit_bundle(path, train, share=0.02, valid_data=valid)
    new = SentimentModel.load(path)  # the weights' checksum was written anew
    assert metrics["unk_refit"]["share"] == 0.02 and metrics["unk_refit"]["texts"] == len(train)
    assert json.loads((path / "metrics.json").read_text(encoding="utf-8")) == metrics
    card = (path / "README.md").read_text(encoding="utf-8")
    assert "the `<unk>` vector alone was fitted for one epoch on the" in card
    # The card's calibration lines are the fit's, before this step: its own validation figures follow it.
    assert f"Validation after this step: accuracy {metrics['validation']['accuracy']:.4f}, expected calibration error {metrics['validation']['ece']:.4f}." in card
    assert json.loads((path / "config.json").read_text(encoding="utf-8"))["unk_refit"] == metrics["unk_refit"]
    assert new.temperature == old.temperature
    assert [r["probs"] for r in new.predict(plain)] == [r["probs"] for r in old.predict(plain)]
    assert new.predict(["😀😀"])[0]["probs"] != old.predict(["😀😀"])[0]["probs"]


def test_unk_only_refuses_a_bundle_it_would_spoil_before_reading_data(small_bundle, small_splits, tmp_path):
    # A zh bundle was rewritten, scored on English texts, with exit 0; a missing one was a traceback.
    from lstm_sentiment.training.shipped import refit_shipped

    for out, message in ((small_bundle[0], "trained with lang auto, not en"), (tmp_path / "none", "model directory not found")):
        with pytest.raises(SentimentError, match=message):
            refit_shipped("en", tmp_path / "no-data", out)
    # Labels the bundle does not know: a KeyError's traceback.
    train = small_splits[0]
    relabelled = type(train)(train.texts[:10], ["great"] * 10, "relabelled")
    before = (small_bundle[0] / "model.safetensors").read_bytes()
    with pytest.raises(SentimentError, match=r"labels \['great'\] unknown to the model"):
        refit_bundle(small_bundle[0], relabelled, share=0.02, valid_data=small_splits[1])
    assert (small_bundle[0] / "model.safetensors").read_bytes() == before
