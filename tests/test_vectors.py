"""Word vectors with subword fallback: gensim's fastText as the oracle, the shipped tables, the model's
reading of unseen words."""

import numpy as np
import pytest
import torch

from lstm_sentiment.config import ModelConfig
from lstm_sentiment.models import SentimentLSTM
from lstm_sentiment.inference.model import SentimentModel
from lstm_sentiment.text.tokenize import Tokenizer
from lstm_sentiment.text.vocab import UNK_ID, Vocab
from lstm_sentiment.vectors import WordVectors, has_word_char, ngram_rows, shipped_vectors


@pytest.fixture(scope="module")
def tiny_fasttext():
    from gensim.models import FastText

    sentences = [["我", "喜欢", "这个", "电影"], ["我", "不", "喜欢", "这个", "手机"], ["电影", "很", "好看"]] * 20
    model = FastText(sentences, vector_size=8, min_count=1, min_n=1, max_n=3, bucket=500, epochs=2, workers=1, seed=1)
    vectors = WordVectors(list(model.wv.index_to_key), torch.from_numpy(model.wv.vectors.copy()), torch.from_numpy(model.wv.vectors_ngrams.copy()), {"min_n": 1, "max_n": 3})
    return model.wv, vectors


def test_ngram_rows_equal_gensims_hashes():
    from gensim.models.fasttext import ft_ngram_hashes

    from lstm_sentiment.data import load_zh_reviews

    # Every word of 500 reviews, and the edges of fastText's rules: bytes >= 0x80 hashed as signed chars,
    # 4-byte characters, the lone < and > left out, words shorter and longer than max_n.
    words = {word for text in load_zh_reviews()[0].texts[:500] for word in Tokenizer("zh")(text).tokens}
    words |= {"a", "超级好看", "x😀y", "naïve", "don't", "<tag>", "𠀀字", "a" * 30, "ÿ"}
    words = sorted(w for w in words if has_word_char(w))
    assert len(words) > 3000
    for min_n, max_n, buckets in ((1, 3, 100_000), (3, 5, 100_000), (2, 6, 2_000_003)):
        for word in words:
            assert ngram_rows(word, min_n, max_n, buckets) == list(ft_ngram_hashes(word, min_n, max_n, buckets)), word


@pytest.mark.parametrize("word", ["喜欢电影", "好看", "手机壳", "boring"])
def test_unseen_word_vector_matches_gensim(tiny_fasttext, word):
    wv, vectors = tiny_fasttext
    np.testing.assert_allclose(vectors.vector(word).numpy(), wv[word], rtol=1e-5, atol=1e-6)


def test_known_word_keeps_its_row(tiny_fasttext):
    wv, vectors = tiny_fasttext
    np.testing.assert_array_equal(vectors.vector("喜欢").numpy(), wv["喜欢"])


def test_words_without_letters_get_no_subword_vector(tiny_fasttext):
    _, vectors = tiny_fasttext
    assert vectors.subword_vector("😀😀") is None and vectors.subword_vector("。。！") is None
    assert has_word_char("a1") and has_word_char("好") and not has_word_char("…!?")
    assert ngram_rows("😀", 1, 3, 100) == []


def test_save_load_round_trip(tiny_fasttext, tmp_path):
    _, vectors = tiny_fasttext
    vectors.save(tmp_path / "v", "# card\n")
    loaded = WordVectors.load(tmp_path / "v")
    assert loaded.words == vectors.words and (loaded.min_n, loaded.max_n) == (1, 3)
    # float16 on disk: within half-precision rounding of the original.
    torch.testing.assert_close(loaded.vector("手机壳"), vectors.vector("手机壳"), atol=2e-3, rtol=1e-3)


@pytest.mark.parametrize("lang,dim", [("zh", 100), ("en", 150)])
def test_shipped_vectors(lang, dim):
    vectors = shipped_vectors(lang)
    assert vectors.dim == dim and len(vectors.words) >= 50_000
    folder = vectors.config
    assert folder["lang"] == lang
    size = vectors.word_vectors.numel() * 2 + vectors.ngram_vectors.numel() * 2
    assert size <= 40 * 2**20


def test_shipped_zh_vectors_know_related_words():
    vectors = shipped_vectors("zh")

    def cosine(a, b):
        a, b = vectors.vector(a), vectors.vector(b)
        return float(a @ b / (a.norm() * b.norm()))

    # Sentiment words sit closer to each other than to an unrelated noun.
    assert cosine("喜欢", "喜爱") > cosine("喜欢", "桌子")
    # An unseen compound reads close to its parts (subword vector).
    assert "超级好看" not in vectors.index
    assert cosine("超级好看", "好看") > 0.5


def test_shipped_en_vectors_hold_glove_and_the_film_reviews_fasttext():
    vectors = shipped_vectors("en")
    general, domain = vectors.word_vectors[:, :50], vectors.word_vectors[:, 50:]

    def cosine(table, a, b):
        a, b = table[vectors.index[a]], table[vectors.index[b]]
        return float(a @ b / (a.norm() * b.norm()))

    for table in (general, domain):
        assert cosine(table, "good", "great") > cosine(table, "good", "table")
    # Words of the film reviews that GloVe's 40,000 most frequent lack have rows of their own.
    assert "unwatchable" in vectors.index and vectors.words.index("unwatchable") >= vectors.config["words"]
    assert cosine(domain, "unwatchable", "awful") > cosine(domain, "unwatchable", "wonderful")


def test_model_reads_unseen_word_through_subwords(tiny_fasttext):
    _, vectors = tiny_fasttext
    torch.manual_seed(0)
    vocab = Vocab(["<pad>", "<unk>", *vectors.words])
    matrix = torch.cat([torch.zeros(2, 8), vectors.word_vectors])
    config = ModelConfig(embedding_dim=8, hidden_size=4, subword_buckets=500, subword_min_n=1, subword_max_n=3)
    network = SentimentLSTM(len(vocab), 2, config, vectors=matrix, ngram_vectors=vectors.ngram_vectors).eval()
    model = SentimentModel(network, vocab, Tokenizer("zh"), {"id2label": ["negative", "positive"]}, path=None)
    # 好看电影 is no word of the vectors, but each of its characters is in one (a word with a letter that no
    # vocabulary word holds is <unk>: see test_new_user's third-script test)
    ids = model.token_ids(["喜欢", "好看电影", "😀"])
    assert ids[0] == vocab.stoi["喜欢"] and ids[1] >= len(vocab) and ids[2] == UNK_ID
    assert model.token_ids(["好看电影"]) == [ids[1]]  # the same id the second time
    x = network.embed(torch.tensor([ids]))
    torch.testing.assert_close(x[0, 1], vectors.subword_vector("好看电影"))
    # The sequence through the model equals one whose vocabulary holds the word with that vector.
    wider = SentimentLSTM(len(vocab) + 1, 2, config, vectors=torch.cat([matrix, vectors.subword_vector("好看电影")[None]]), ngram_vectors=vectors.ngram_vectors).eval()
    wider.load_state_dict({k: v for k, v in network.state_dict().items() if k != "embedding.weight"}, strict=False)
    lengths = torch.tensor([2])
    with torch.no_grad():
        torch.testing.assert_close(network(torch.tensor([ids[:2]]), lengths), wider(torch.tensor([[ids[0], len(vocab)]]), lengths))
