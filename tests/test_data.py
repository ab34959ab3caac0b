"""The built-in corpus and user files."""

import json
import re
import warnings
from collections import Counter
from pathlib import Path

import pytest

from lstm_sentiment.data import check_trainable, label_order, load_zh_reviews, read_labelled, read_texts
from lstm_sentiment.data.corpus import corpus_counts, corpus_texts
from lstm_sentiment.data.dataset import LabelledTexts, as_three_way_numbers, canonical_labels, stratified_split
from lstm_sentiment.data.files import iter_texts
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.text.normalize import has_words, same_text_key
from lstm_sentiment.training.splits import training_splits


def test_zh_reviews_deduplicated_consistent_and_split():
    train, valid, test = load_zh_reviews()
    counts = corpus_counts()
    # Documented in the README: 17,363 distinct texts with one label each, split, then the 6 training texts
    # that are a held-out text but for a stop dropped, and the two that are a link alone (evaluate --data
    # zh-reviews:validation failed on one once links were removed).
    assert counts == {
        "train": {"negative": 7223, "positive": 6661},
        "validation": {"negative": 903, "positive": 832},
        "test": {"negative": 903, "positive": 833},
    }
    texts = train.texts + valid.texts + test.texts
    assert len(texts) == len(set(texts)) == 17355 and all(map(has_words, texts))
    trained = {same_text_key(t) for t in train.texts}
    assert not any(same_text_key(t) in trained for t in valid.texts + test.texts)
    for part in (valid, test):  # stratified: same class balance as train within 1 point
        share = part.labels.count("positive") / len(part)
        assert abs(share - train.labels.count("positive") / len(train)) < 0.01


def test_the_word_vectors_read_every_text_of_the_corpus_whatever_the_splits_clean_ups():
    # Read from the cleaned splits, every clean-up of them (8 texts on 2026-12-05 and -06) changed the table
    # that make vectors builds.
    texts = corpus_texts()
    assert len(texts) == len(set(texts)) == 17363
    cleaned = [t for part in load_zh_reviews() for t in part.texts]
    assert set(cleaned) < set(texts) and len(set(texts) - set(cleaned)) == 8


def test_a_test_file_of_some_classes_keeps_the_training_files_spelling(tmp_path):
    rows = [f"{word}{i},{label}" for i in range(10) for word, label in (("好极了", "1"), ("一般般", "0"), ("太差了", "-1"))]
    (tmp_path / "tri.csv").write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "sub.csv").write_text("text,label\n好极了,1\n太差了,-1\n", encoding="utf-8")
    train, _, test = training_splits(str(tmp_path / "tri.csv"), test=tmp_path / "sub.csv")
    assert set(train.labels) == {"-1", "0", "1"} and test.labels == ["1", "-1"]


def test_a_users_file_is_deduplicated_before_it_is_split(tmp_path, caplog):
    # 60 distinct texts, each written 3 times, and one under both labels: split as it stood, the copies
    # fell in train and test both and the test accuracy read 1.0.
    rows = [f"好极了{i},pos" for i in range(30)] + [f"太差了{i},neg" for i in range(30)]
    (tmp_path / "d.csv").write_text("text,label\n" + "\n".join(rows * 3 + ["一般般,pos", "一般般,neg"]) + "\n", encoding="utf-8")
    with caplog.at_level("INFO", logger="lstm_sentiment"):
        train, valid, test = training_splits(str(tmp_path / "d.csv"))
    assert "60 of 182 rows left (copies of a kept text: 120; texts under two labels: 1, in 2 rows)" in caplog.text
    texts = train.texts + valid.texts + test.texts
    assert sorted(texts) == sorted(r.split(",")[0] for r in rows) and len(test) == 6
    # Given files are the user's to choose: kept whole, their overlap with training named.
    (tmp_path / "t.csv").write_text("text,label\n好极了0,pos\n好极了99,pos\n太差了99,neg\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"t\.csv: 1 of 3 texts also in the training data"):
        training_splits(str(tmp_path / "d.csv"), test=tmp_path / "t.csv")
    # One class left: the error says de-duplication did it, counting as the log does (it said "texts under two
    # labels: 2" of one text in two rows, where the log said "1, in 2 rows").
    (tmp_path / "one.csv").write_text("text,label\n好,pos\n好,neg\n坏,neg\n差,neg\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"need at least 2 classes to train, found 'negative' after de-duplication \(copies dropped: 0; texts under two labels: 1, in 2 rows\)"):
        training_splits(str(tmp_path / "one.csv"))
    # Labels in the text column: "found none" said nothing of why.
    (tmp_path / "swapped.csv").write_text("text,label\n1,很好看的电影\n0,太难看了\n1,演员很棒\n0,剧情拖沓\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"texts under two labels: 2, in 4 rows\); 2 distinct texts and 4 distinct labels: are the text and label columns swapped\?$"):
        training_splits(str(tmp_path / "swapped.csv"))
    # The same as the model reads them: case, spaces, entities and full-width forms aside.
    # Spaces inside a Chinese text or before punctuation were kept as a difference, under two labels even.
    rows = ["good movie,pos", "  GOOD   movie ,pos", "good&nbsp;movie,pos", "ｇｏｏｄ movie,pos", "bad movie,neg", "Bad Movie,pos",
            "这部电影很好,pos", "这部电影 很好,neg", "great film!,pos", "great film !,pos",
            # A stop at either end too: 性价比高。 and 性价比高 were two texts, one could train and one test.
            "性价比高。,pos", "性价比高,pos", "物流太慢！！,neg", "物流太慢~,pos", "!!!,pos", "???,neg"]
    (tmp_path / "v.csv").write_text("text,label\n" + "\n".join(rows + [f"word{i},{'pos' if i % 2 else 'neg'}" for i in range(40)]) + "\n", encoding="utf-8")
    train, valid, test = training_splits(str(tmp_path / "v.csv"))
    texts = train.texts + valid.texts + test.texts
    assert texts.count("good movie") == 1 and not {"  GOOD   movie ", "ｇｏｏｄ movie", "bad movie", "Bad Movie"} & set(texts)
    assert not {"这部电影很好", "这部电影 很好", "great film !"} & set(texts) and "great film!" in texts
    assert "性价比高。" in texts and not {"性价比高", "物流太慢！！", "物流太慢~"} & set(texts)
    assert {"!!!", "???"} <= set(texts)  # stops alone stay texts of their own
    (tmp_path / "u.csv").write_text("text,label\nWORD1 ,pos\nnew,neg\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"u\.csv: 1 of 2 texts also in the training data \(as the model reads them\)"):
        training_splits(str(tmp_path / "v.csv"), test=tmp_path / "u.csv")
    # Copies alone: no "texts under two labels: 0, in 0 rows".
    (tmp_path / "c.csv").write_text("text,label\n" + "\n".join(rows[:2] + [f"word{i},{'pos' if i % 2 else 'neg'}" for i in range(40)]) + "\n", encoding="utf-8")
    caplog.clear()
    with caplog.at_level("INFO", logger="lstm_sentiment"):
        training_splits(str(tmp_path / "c.csv"))
    assert "41 of 42 rows left (copies of a kept text: 1)\n" in caplog.text


def test_labels_fold_and_order():
    assert canonical_labels([0, "1", "POS", "neg", "1.0", " Positive "]) == [
        "negative", "positive", "positive", "negative", "positive", "positive"
    ]
    # Chinese names fold too: fine-tuning zh on 正面/负面 got a new classifier instead of the trained one.
    assert canonical_labels(["正面", "负面", "積極", "消极", "好评", "差評"]) == ["positive", "negative", "positive", "negative", "positive", "negative"]
    assert canonical_labels(["正面", "负面", "中性"]) == ["正面", "负面", "中性"]  # three classes stay as written
    assert canonical_labels(["1", "5", "3.0"]) == ["1", "5", "3"]  # star ratings stay classes
    assert canonical_labels(["-1", "0", "1", "0"]) == ["-1", "0", "1", "0"]  # 0 = neutral: three classes, not two
    assert canonical_labels(["-1", "1"]) == ["negative", "positive"]
    # Beside a -1/0/1 model or training file, -1 and 1 are two of its classes: folded, evaluate and
    # train --test refused them as unknown labels.
    assert canonical_labels(["-1", "1"], known=["-1", "0", "1"]) == ["-1", "1"]
    # Words beside a -1/0/1 model are its numbers, after the fold (a 0/1 warning sees the labels as written).
    three = ["-1", "0", "1"]
    assert canonical_labels(["Negative", "neutral", "pos", "负面"], known=three) == ["negative", "neutral", "pos", "负面"]
    assert as_three_way_numbers(canonical_labels(["Negative", "neutral", "pos", "负面"], known=three), three) == ["-1", "0", "1", "-1"]
    # The Chinese third class too: 正面/负面/中性 were "unknown to the model" beside -1/0/1 or negative/neutral/positive.
    assert as_three_way_numbers(["正面", "负面", "中性", "中评"], three) == ["1", "-1", "0", "0"]
    assert as_three_way_numbers(["pos", "-1"], three) == ["pos", "-1"]  # no one convention: as written
    assert canonical_labels(["正面", "负面", "中性"], known=["negative", "neutral", "positive"]) == ["positive", "negative", "neutral"]
    assert canonical_labels(["0", "1"], known=["negative", "positive"]) == ["negative", "positive"]
    assert canonical_labels([" Positive ", "neg"], known=["negative", "positive"]) == ["positive", "negative"]
    assert canonical_labels(["0", "1"], known=["1", "2", "3"]) == ["0", "1"]  # named as written when refused
    # +1/-1 (SVMlight's spelling) was two classes of its own, and train --init-from zh dropped the trained head;
    # full-width digits were refused though texts are NFKC-normalised.
    assert canonical_labels(["+1", "-1", "+1.0"]) == ["positive", "negative", "positive"]
    assert canonical_labels(["１", "０"], known=["negative", "positive"]) == ["positive", "negative"]
    assert canonical_labels(["+5", "3"]) == ["5", "3"]
    # -1/0/1 beside a negative/neutral/positive model are its classes (refused as unknown labels).
    assert canonical_labels(["-1", "0", "+1"], known=["negative", "neutral", "positive"]) == ["negative", "neutral", "positive"]
    assert canonical_labels(["0", "1"], known=["negative", "neutral", "positive"]) == ["negative", "positive"]  # 0/1 binary, as before
    assert label_order(["positive", "negative"]) == ["negative", "positive"]
    assert label_order(["5", "10", "1"]) == ["1", "5", "10"]


def test_read_csv_bom_and_guessed_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffid,Review,Sentiment\n1,好看,pos\n2,\"难看, 很差\",neg\n".encode("utf-8"))
    data = read_labelled(path)
    assert data.texts == ["好看", "难看, 很差"] and data.labels == ["positive", "negative"]


def test_read_tsv_jsonl_and_named_columns(tmp_path):
    tsv = tmp_path / "d.tsv"
    tsv.write_text("body\tstars\nok\t3\nbad\t1\n", encoding="utf-8")
    data = read_labelled(tsv, text_column="body", label_column="stars")
    assert data.labels == ["3", "1"]
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in [("a", 1), ("b", 0)]) + "\n", encoding="utf-8")
    assert read_labelled(jsonl).labels == ["positive", "negative"]


def test_missing_column_lists_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("body,score\nx,1\n", encoding="utf-8")
    with pytest.raises(SentimentError, match="no text column .*columns found: body, score"):
        read_labelled(path)
    with pytest.raises(SentimentError, match="no label column 'y'; columns found: body, score"):
        read_labelled(path, text_column="body", label_column="y")
    path.write_text("text;label\n好;1\n", encoding="utf-8")  # a spreadsheet's export in some locales
    with pytest.raises(SentimentError, match=r"columns found: text;label \(separated by ';'\? CSV takes commas, TSV tabs\)$"):
        read_labelled(path)
    # A tab-separated file named .csv, or the reverse, was told to name its text column.
    path.write_text("text\tlabel\n好\t1\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"columns found: text\\tlabel \(separated by tabs\? name the file \.tsv\)$"):
        read_labelled(path)
    (tmp_path / "d.tsv").write_text("id,review,label\n1,好,1\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"columns found: id,review,label \(separated by commas\? name the file \.csv\)$"):
        read_labelled(tmp_path / "d.tsv")
    # A file without a header: its first row was listed as the columns, with "name it with --text-column".
    path.write_text("先说优点，屏幕很好,1\n太差了,0\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"columns found: 先说优点，屏幕很好, 1; the first line reads as a row of data \(numbers for column names\): add a header line, e.g. text,label, or name it with --text-column$"):
        read_labelled(path)
    path.write_text("body,stars,2019\n好,5,1\n", encoding="utf-8")  # a header with a number among its names
    with pytest.raises(SentimentError, match=r"columns found: body, stars, 2019; name it with --text-column$"):
        read_labelled(path)


def test_an_empty_labelled_file_is_called_empty(tmp_path):
    # It was "no text column (text/review/…); columns found: none; name it with --text-column".
    for name, content in (("d.csv", ""), ("d.tsv", "\n \n"), ("d.jsonl", "\n")):
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(SentimentError, match=rf"{re.escape(name)}: empty file$"):
            read_labelled(tmp_path / name)
    # The same for texts to predict (it said "no text column …" there too), and for stdin as labelled data
    # (it said "-: cannot read (No such file or directory)").
    for name, content, error in (("e.csv", "", "empty file"), ("e.jsonl", "", "empty file"), ("b.csv", "\n\n", "line 1, the header, is blank")):
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(SentimentError, match=rf"{re.escape(name)}: {error}$"):
            read_texts(tmp_path / name)
    with pytest.raises(SentimentError, match=r"^-: labelled data is read from a file, not stdin; save it as \.csv, \.tsv or \.jsonl$"):
        read_labelled("-")


def test_one_column_as_text_and_label_and_a_first_object_without_a_label(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\n好看,1\n", encoding="utf-8")
    # Read, every text was its own class: a 3 KB error listing them all.
    with pytest.raises(SentimentError, match="'text' is both the text and the label column"):
        read_labelled(path, label_column="text")
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"text": "a"}\n{"text": "b", "label": 1}\n', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"d\.jsonl: line 1 has no label in 'label'"):
        read_labelled(jsonl)
    array = tmp_path / "d.json"
    array.write_text('[{"text": "a", "label": 1}]', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"d\.json: a JSON array"):
        read_labelled(array)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("blank.csv", "text,label\n好看,1\n难看,\n", r"blank.csv: line 3 has no label in 'label'"),
        ("short.csv", "text,label\n好看,1\n难看\n", r"short.csv: line 3 has 1 field, the header 2"),
        ("long.csv", "text,label\n好看,1,extra\n", r"long.csv: line 2 has 3 fields, the header 2"),
        ("empty.tsv", "text\tlabel\n  \t0\n", r"empty.tsv: line 2 has an empty text in 'text'"),
        ("number.jsonl", '{"text": "a", "label": 1}\n{"text": 123, "label": 0}\n', r"number.jsonl: line 2 has a text that is not a string: 123"),
        ("nolabel.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n', r"nolabel.jsonl: line 2 has no label in 'label'"),
        ("notext.jsonl", '{"text": "a", "label": 1}\n{"label": 0}\n', r"notext.jsonl: line 2 has no text in 'text'"),
        ("listlabel.jsonl", '{"text": "a", "label": [1]}\n', r"listlabel.jsonl: line 1 has a label that is not a string or number: \[1\]"),
        ("blankline.jsonl", '{"text": "a", "label": 1}\n\n{"text": "b", "label": 0}\n', r"blankline.jsonl: line 2 is blank"),
        ("twice.csv", "text,text,label\na,b,1\n", r"twice.csv: the header names 'text' more than once"),
        ("quote.csv", 'text,label\n好,1\n"坏,0\n差,0\n', r"quote.csv: the quote that opens line 3 is never closed"),
        # A stray opening quote used to swallow the rows up to the next quote into one text (exit 0).
        ("stray.csv", 'text,label\n"好,1\n差,0\n他说"不错"呢,1\n坏,0\n', r"stray.csv: the quoted text from line 2 to line 4 goes on after its closing quote \(a stray \"\?\)"),
        ("after.tsv", 'text\tlabel\n"好" 看\t1\n', r"after.tsv: line 2 goes on after its closing quote"),
    ],
)
def test_a_bad_training_row_is_named_not_dropped(tmp_path, name, content, error):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SentimentError, match=error):
        read_labelled(path)


def test_every_bad_row_is_counted_and_the_next_five_named_by_line(tmp_path):
    # Only the first was named: a file of eight bad rows took eight runs to mend.
    rows = ["好看,1", "难看,", "不错,1", " ,0", "差,", "好,1"] + ["坏,"] * 5
    path = tmp_path / "many.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"^.*many\.csv: line 3 has no label in 'label' \(7 more bad row\(s\): line 5, 6, 8, 9, 10, …\)$"):
        read_labelled(path)
    path.write_text("text,label\n好看,1\n难看,\n不错,1\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"many\.csv: line 3 has no label in 'label'$"):
        read_labelled(path)


def test_a_spreadsheets_columns_without_a_name_are_no_fault(tmp_path):
    # Excel writes "Text,Label,," for cells once touched, pandas ",text,label" for its index: train and
    # evaluate refused both ("the header names '' more than once"), predict read them.
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffText,Label,,\r\n很好,1,,\r\n很差,0,,\r\n".encode("utf-8"))
    data = read_labelled(path)
    assert data.texts == ["很好", "很差"] and data.labels == ["positive", "negative"]
    path.write_text(",Review Text, Label ,,\n0,很好,1,,\n1,很差,0,,\n", encoding="utf-8")
    assert read_labelled(path, "review text", "label").texts == ["很好", "很差"]


def test_a_directory_as_input_is_named(tmp_path):
    with pytest.raises(SentimentError, match=r": is a directory; give a file$"):
        read_texts(tmp_path)
    folder = tmp_path / "d.csv"
    folder.mkdir()
    with pytest.raises(SentimentError, match=r"d.csv: is a directory"):
        read_labelled(folder)


def test_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("text,label\n好,1\n".encode("utf-8") + "坏,0\n".encode("gbk"))
    with pytest.raises(SentimentError, match=r"gbk.csv: line 3 is not UTF-8"):
        read_labelled(path)


def test_chinese_column_names_are_guessed(tmp_path):
    # 评论,情感 was "no text column (text/review/sentence/content)"; so was an English 'comment'.
    path = tmp_path / "外卖.csv"
    path.write_text("评论,情感\n送餐很快，味道不错,正面\n汤洒了一半,负面\n", encoding="utf-8")
    data = read_labelled(path)
    assert data.texts == ["送餐很快，味道不错", "汤洒了一半"] and data.labels == ["positive", "negative"]
    english = tmp_path / "e.csv"
    english.write_text("comment,sentiment\ngreat,pos\n", encoding="utf-8")
    assert read_labelled(english).texts == ["great"]


def test_a_gbk_file_is_named_as_such_with_the_command_that_converts_it(tmp_path):
    # Excel on Chinese Windows saves a CSV in GBK; it was "line 2 is not UTF-8 (byte 0xd5)" and no more.
    gbk = tmp_path / "my reviews.csv"
    gbk.write_bytes("text,label\n这部电影很好看,1\n太差了,0\n".encode("gbk"))
    with pytest.raises(SentimentError) as caught:
        read_labelled(gbk)
    assert str(caught.value) == (
        f"{gbk}: line 2 is not UTF-8 (byte 0xd5) but reads as GBK (GB18030) Chinese; save the file as UTF-8: iconv -f GB18030 -t UTF-8 '{gbk}' > utf8.csv"
    )
    rows = list(iter_texts(gbk, strict=False))
    assert [r.error for r in rows] == ["line 2 is not UTF-8 (byte 0xd5) but reads as GBK (GB18030) Chinese", "line 3 is not UTF-8 (byte 0xb2) but reads as GBK (GB18030) Chinese"]
    with pytest.raises(SentimentError, match=r"line 2 is not UTF-8 \(byte 0xd5\) but reads as GBK \(GB18030\) Chinese; save the file as UTF-8: iconv"):
        list(iter_texts(gbk))
    header = tmp_path / "h.csv"
    header.write_bytes("文本,标签\n这部电影很好看,1\n".encode("gbk"))
    with pytest.raises(SentimentError, match=r"h\.csv: line 1 \(the header\) is not UTF-8; save the file as UTF-8: iconv -f GB18030"):
        list(iter_texts(header, text_column="文本"))

    def refusal(name: str, row: str, encoding: str) -> tuple[Path, str]:
        path = tmp_path / name
        path.write_bytes(f"text,label\n{row}\n".encode(encoding))
        with pytest.raises(SentimentError) as caught:
            read_labelled(path)
        return path, str(caught.value)

    # A Latin-1 line decodes as GB18030 too (each accented letter and the next a rare Han character): it is
    # Windows-1252's, Excel's on Western Windows.
    latin1, message = refusal("fr.csv", "Très élégant café, it’s fine,1", "cp1252")
    assert message == f"{latin1}: line 2 is not UTF-8 (byte 0xe8) but reads as Windows-1252 (Western European); save the file as UTF-8: iconv -f WINDOWS-1252 -t UTF-8 {latin1} > utf8.csv"
    # Big5 decodes as GB18030 too, to rare characters (這部電影 as 硂场筿紇), and the iconv command made garbage.
    big5, message = refusal("tw.csv", "這部電影很好看,1", "big5")
    assert message == f"{big5}: line 2 is not UTF-8 (byte 0xb3); save the file as UTF-8"
    # Korean in EUC-KR reads as GB2312 Chinese too (최악의 영화 as 弥厩狼 康拳), and its iconv command made garbage.
    korean, message = refusal("ko.csv", "최악의 영화였다 정말 별로,0", "euc_kr")
    assert message == f"{korean}: line 2 is not UTF-8 (byte 0xc3) but reads as EUC-KR Korean; save the file as UTF-8: iconv -f EUC-KR -t UTF-8 {korean} > utf8.csv"
    # Chinese with a space between words reads as EUC-KR too, but with Hanja beside the Hangul: still GBK.
    assert "but reads as GBK (GB18030) Chinese" in refusal("spaced.csv", "这家店的菜很好吃 服务也不错,1", "gbk")[1]
    # Russian in Windows-1251 decodes in Windows-1252 too, as words of accented letters: no guess is named.
    cyrillic, message = refusal("ru.csv", "Разве это хорошо,0", "cp1251")
    assert message == f"{cyrillic}: line 2 is not UTF-8 (byte 0xd0); save the file as UTF-8"


def test_one_class_or_tiny_class_refused():
    with pytest.raises(SentimentError, match="need at least 2 classes"):
        check_trainable(LabelledTexts(["a", "b"], ["positive", "positive"], "x.csv"))
    with pytest.raises(SentimentError, match="at least 2 examples, got {'negative': 1}"):
        check_trainable(LabelledTexts(["a", "b", "c"], ["positive", "positive", "negative"], "x.csv"))


def test_a_label_column_of_texts_is_refused_in_one_short_line():
    # Texts as labels made a class of each row, and the message listed every one of them.
    texts = [f"第{i}条评论" * 30 for i in range(5000)]
    with pytest.raises(SentimentError) as refused:
        check_trainable(LabelledTexts(texts, texts, "x.csv"))
    message = str(refused.value)
    assert len(message) < 400 and "\n" not in message, message
    assert message.startswith("x.csv: each class needs at least 2 examples, got {'第0条评论第0条评论第0条评论第0条评论…': 1, ")
    assert message.endswith(" and 4,995 more of 5,000 classes in 5,000 texts: is the label column right?")


def test_a_file_to_split_needs_three_of_a_class_and_scores_are_named(tmp_path):
    # Two of a class: the split kept one to train on, and the message ("x.csv:train: ... got {'2': 1}")
    # named a count the file did not hold. Scores as labels trained an 11-class model without a word.
    from lstm_sentiment.training.splits import training_splits

    path = tmp_path / "x.csv"
    path.write_text("text,label\n" + "".join(f"文本{i},{i % 2}\n" for i in range(10)) + "好吧,2\n还行,2\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=re.escape("x.csv: each class needs at least 3 examples (2 to train on, 1 to validate), got {'2': 2} (the first text under '2': '好吧')")):
        training_splits(str(path))
    # One stray label, a typo (11 in a 0/1 file), is found by its text: the message named no row (trial).
    with pytest.raises(SentimentError, match=re.escape("x.csv: each class needs at least 2 examples, got {'11': 1} (the text under '11': '这家店的菜很好吃，服务也很周到，下次还会再来，推荐给大家一起…')")):
        check_trainable(LabelledTexts(["很好", "很差", "这家店的菜很好吃，服务也很周到，下次还会再来，推荐给大家一起来", "还行", "太差"], ["1", "0", "11", "1", "0"], "x.csv"))
    path.write_text("text,label\n" + "".join(f"文本{i},{i % 11 / 10}\n" for i in range(44)), encoding="utf-8")
    with pytest.warns(UserWarning, match=re.escape("x.csv: the labels are 11 numbers from 0 to 1, not all whole: each value is a class of its own")):
        training_splits(str(path))


@pytest.mark.parametrize("n", [4, 5, 6, 10, 15])
def test_a_class_of_four_or_more_has_a_test_text(n):
    # 4 and 5 texts rounded 0.4 and 0.5 to no test text, though the warning said 4 were needed.
    data = LabelledTexts([f"p{i}" for i in range(n)] + [f"n{i}" for i in range(20)], ["positive"] * n + ["negative"] * 20, "x.csv")
    train_part, valid_part, test_part = stratified_split(data)
    sizes = [Counter(part.labels)["positive"] for part in (train_part, valid_part, test_part)]
    assert sizes == {4: [2, 1, 1], 5: [3, 1, 1], 6: [4, 1, 1], 10: [8, 1, 1], 15: [11, 2, 2]}[n]
    assert [len(part) - size for part, size in zip((train_part, valid_part, test_part), sizes)] == [16, 2, 2]
    # No test fraction: no test text, whatever the class's size.
    assert len(stratified_split(data, (0.9, 0.1, 0.0))[2]) == 0


def test_a_column_named_twice_is_kept_under_a_number_and_record_names_fold_case(tmp_path):
    # DictReader kept the last 'note' of each row: predict's output lost the first without a word; and an
    # input's 'Label' sat beside the predicted 'label', one column to a tool that reads names without case.
    from lstm_sentiment.data.files import iter_rows
    from lstm_sentiment.output import input_column_key

    path = tmp_path / "d.csv"
    path.write_text("id,text,note,note,note_2,note\n1,很好,A,B,X,E\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"d\.csv: the header names 'note' more than once; kept as 'note_2_', 'note_3' after the first"):
        rows = list(iter_rows(path))
    assert rows == [("很好", {"id": "1", "note": "A", "note_2_": "B", "note_2": "X", "note_3": "E"})]
    assert [input_column_key(name) for name in ("Label", "SCORE", "Prob_x", "Input_y", "Flags", "id")] == ["input_Label", "input_SCORE", "input_Prob_x", "input_Input_y", "input_Flags", "id"]


def test_predicts_output_is_not_read_as_labelled_data(tmp_path):
    # evaluate guessed the predicted 'label' as the truth and scored the model against itself: 1.0.
    csv_out = tmp_path / "p.csv"
    csv_out.write_text("id,input_label,text,label,score,prob_negative,prob_positive,flags\n1,1,很好,positive,0.9,0.1,0.9,\n2,1,太差,negative,0.8,0.8,0.2,\n", encoding="utf-8")
    jsonl_out = tmp_path / "p.jsonl"
    jsonl_out.write_text('{"text": "很好", "label": "positive", "score": 0.9, "probs": {"negative": 0.1, "positive": 0.9}}\n', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"p\.csv: this is predict's output: its 'label' column holds predictions, .*; or name the true labels with --label-column input_label$"):
        read_labelled(csv_out)
    with pytest.raises(SentimentError, match=r"p\.jsonl: this is predict's output: .*read the file predict was given$"):
        read_labelled(jsonl_out)
    assert read_labelled(csv_out, label_column="input_label").labels == ["positive", "positive"]
    assert read_labelled(csv_out, label_column="label").labels == ["positive", "negative"]  # asked for
    # predict writes an input's Label as input_Label: no hint named it.
    upper = tmp_path / "u.csv"
    upper.write_text("input_Label,text,sentiment,label,score,prob_negative,prob_positive\n1,很好,x,positive,0.9,0.1,0.9\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="fits too"), pytest.raises(SentimentError, match=r"; or name the true labels with --label-column input_Label$"):
        read_labelled(upper)
    # The input's labels under another name (sentiment) are kept as they were named: no hint named them.
    kept = tmp_path / "k.csv"
    kept.write_text("text,sentiment,label,score,prob_negative,prob_positive\n很好,1,positive,0.9,0.1,0.9\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="'sentiment' fits too"), pytest.raises(SentimentError, match=r"k\.csv: this is predict's output: .*; or name the true labels with --label-column sentiment$"):
        read_labelled(kept)


def test_rows_of_commas_alone_are_skipped_as_blank_lines_are(tmp_path):
    # A spreadsheet leaves ",," rows below the data: train and evaluate stopped at "line 4 has no label in
    # 'label'", and predict wrote "empty text" records for them.
    path = tmp_path / "d.csv"
    path.write_text("id,text,label\n1,很好,1\n\n,,\n2,太差,0\n , ,\n,\n", encoding="utf-8")
    data = read_labelled(path)
    assert data.texts == ["很好", "太差"] and data.labels == ["positive", "negative"]
    assert read_texts(path) == ["很好", "太差"]
    # A row with anything in it is still read, and refused where it must be.
    path.write_text("id,text,label\n1,很好,1\n7,,\n", encoding="utf-8")
    with pytest.raises(SentimentError, match="line 3 has no label"):
        read_labelled(path)


def test_read_texts_txt_keeps_blank_lines(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("好看\n\n难看\n", encoding="utf-8")
    assert read_texts(path) == ["好看", "", "难看"]


def test_lines_end_at_newline_only(tmp_path):
    # U+2028, U+0085, form feed and a lone \r are characters of a text (and legal raw in a JSON string), not
    # line ends: outputs stay aligned with `wc -l`'s lines.
    texts = ["好\u2028看", "差\u0085劲", "一\x0c般", "不\r错"]
    txt = tmp_path / "t.txt"
    txt.write_bytes(("\r\n".join(texts) + "\n").encode("utf-8"))
    # Such a CR is flagged: a file of old Mac line ends (CR alone) was classified as one text without a word.
    with pytest.warns(UserWarning, match=r"t\.txt: line 4 holds a carriage return \(\\r\) inside it, read as part of one text"):
        assert read_texts(txt) == texts
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t, "label": i % 2}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    assert "\u2028" in jsonl.read_text(encoding="utf-8")  # written raw, as json.dumps(ensure_ascii=False) does
    assert read_texts(jsonl) == texts and read_labelled(jsonl).texts == texts


def test_a_lone_cr_in_a_csv_or_tsv_row_stays_in_its_field(tmp_path):
    # The csv module ends an unquoted row at a lone CR: one row was two texts ("很", "差,0" a faulty row),
    # and every line number after it was off by one.
    rows = "id,text,label\r\n1,不\r错,1\r\n2,\"好\r看\",1\n3,差,0\n"
    path = tmp_path / "t.csv"
    path.write_bytes(rows.encode("utf-8"))
    with pytest.warns(UserWarning, match=r"t\.csv: line 2 holds a carriage return \(\\r\) inside it, read as part of its field"):
        data = read_labelled(path)
    assert data.texts == ["不\r错", "好\r看", "差"] and data.labels == ["positive", "positive", "negative"]
    tsv = tmp_path / "t.tsv"
    tsv.write_bytes("text\tlabel\n很\r差\t0\n好\t1\n一般\n".encode("utf-8"))
    with pytest.warns(UserWarning, match="line 2 holds a carriage return"):
        texts = list(iter_texts(tsv, strict=False))
    assert [t if isinstance(t, str) else t.error for t in texts] == ["很\r差", "好", "line 4 has 1 field, the header 2"]
    # A file of old Mac line ends (Excel for Mac's CSV) ends its header, and every row, at a CR.
    mac = tmp_path / "mac.csv"
    mac.write_bytes("text,label\r很好,1\r差,0\r".encode("utf-8"))
    assert read_labelled(mac).texts == ["很好", "差"]
    # A CR that ends the file ends its last row, unwarned; a U+FDD0 of the file's own (the mark a joined CR
    # crosses the csv reader as) stays what it is.
    end = tmp_path / "end.csv"
    end.write_bytes("text,label\n好,1\n\ufdd0差,0\r".encode("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_labelled(end).texts == ["好", "\ufdd0差"]
    # A header that ends at LF over rows that end at a CR alone (one echoed onto an old Mac CSV) was one
    # row of every text: lines that each hold the header's fields are rows, and so are 1,000 such lines
    # in a row; a last row with a CR in its text stays one row at a file's final CR.
    for tail in ("\r", ""):
        echoed = tmp_path / "echoed.csv"
        echoed.write_bytes(f"text,label\n很好,1\r差,0\r好,1{tail}".encode("utf-8"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert read_labelled(echoed).texts == ["很好", "差", "好"]
    last = tmp_path / "last.csv"
    last.write_bytes("text,label\n好,1\n不\r错,0\r".encode("utf-8"))
    with pytest.warns(UserWarning, match="line 3 holds a carriage return"):
        assert read_labelled(last).texts == ["好", "不\r错"]
    long = tmp_path / "long.csv"
    long.write_bytes(("text,label\n" + "".join(f"好{i},{i % 2}\r" for i in range(2000)) + "差\n").encode("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = list(iter_texts(long, strict=False))
    assert len(texts) == 2001 and texts[:2] == ["好0", "好1"] and texts[1999] == "好1999"
    assert texts[2000].error == "line 2002 has 1 field, the header 2"  # its line number counts each CR row


def test_jsonl_columns_no_json_output_can_carry_are_written_as_null_or_marked(tmp_path):
    from lstm_sentiment.data.files import iter_rows

    # 1e400 read as inf and went out as Infinity (NaN, -Infinity likewise): invalid JSON, without a word.
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "好", "v": 1e400, "w": [NaN, 2.5], "n": 123456789012345678901234567890}\n{"text": "差", "v": 1.5}\n', encoding="utf-8")
    with pytest.warns(UserWarning, match=r"t\.jsonl: line 1: NaN or Infinity in its other columns \(JSON has neither\), kept as null \(an empty cell in CSV or TSV output\)"):
        rows = list(iter_rows(path))
    assert rows == [("好", {"v": None, "w": [None, 2.5], "n": 123456789012345678901234567890}), ("差", {"v": 1.5})]
    # A lone surrogate in another column is written as ?, no longer without a word.
    path.write_text('{"text": "好", "x": "\\ud800"}\n', encoding="utf-8")
    with pytest.warns(UserWarning, match=r"t\.jsonl: line 1: a lone surrogate .* written as \?"):
        assert list(iter_rows(path)) == [("好", {"x": "?"})]


def test_sst2_leak_free_split_shares_no_sentence_or_phrase(tmp_path):
    # GLUE's SST-2 file holds each sentence and its labelled phrases; a random split scores phrases of
    # training sentences. A synthetic file of the same shape (the build data is not read by tests).
    from lstm_sentiment.data.domains import sst2_leak_free

    words = "the film is a quiet and moving study of grief told with rare grace".split()
    sentences = [" ".join(words[i : i + 7] + [f"w{n}"]) for n, i in enumerate(range(0, 8))]
    rows = [(s, n % 2) for n, s in enumerate(sentences)]
    rows += [(" ".join(s.split()[1:4]), n % 2) for n, s in enumerate(sentences)]  # phrases inside them
    rows += [("good", 1), ("bad", 0)]
    folder = tmp_path / "sst2"
    folder.mkdir()
    for name, part in (("train.csv", rows[::2]), ("dev.csv", rows[1::2])):
        (folder / name).write_text("sentence,label\n" + "".join(f"{t},{y}\n" for t, y in part), encoding="utf-8")
    train, valid, test = sst2_leak_free(tmp_path, held_out=2, seed=13)
    held = valid.texts + test.texts
    assert len(valid) == len(test) == 2 and set(held) <= set(sentences)  # whole sentences only
    for h in held:
        for t in train.texts:
            assert f" {t} " not in f" {h} " and f" {h} " not in f" {t} ", (h, t)
    assert {"good", "bad"} <= set(train.texts)  # what is in no held-out sentence stays for training
    assert len(train) + len(held) < len(rows)  # the held-out sentences' phrases left training


def test_no_held_out_text_of_one_domain_is_trained_on_in_another():
    # zh-reviews and the shopping file share 9,313 texts, each domain split on its own: the shipped zh model
    # had trained on 189 of zh-reviews' test texts (through shopping's training split).
    from lstm_sentiment.data.dataset import without_cross_leaks

    def parts(train, valid, test):
        return tuple(LabelledTexts(texts, ["positive"] * len(texts), "x") for texts in (train, valid, test))

    splits = {
        "reviews": parts(["物流很快", "质量 不错", "好", "性价比高", "屏幕清晰！"], ["一般般", "键盘手感好"], ["包装很好", "性价比高。"]),
        "shopping": parts(["包装 很好", "一般般", "质量不错", "发货慢"], ["质量不错 ", "差", "性价比高！"], ["太差了", "屏幕清晰"]),
    }
    cleaned = without_cross_leaks(splits)
    # A training text held out anywhere goes (spaces and end stops aside: the shipped zh model trained on
    # 性价比高 beside the test's 性价比高。); a validation text tested anywhere goes; tests stay.
    assert cleaned["reviews"][0].texts == ["物流很快", "好"]
    assert cleaned["shopping"][0].texts == ["发货慢"]
    assert cleaned["reviews"][1].texts == ["一般般", "键盘手感好"] and cleaned["shopping"][1].texts == ["质量不错 ", "差"]
    assert [c[2].texts for c in cleaned.values()] == [["包装很好", "性价比高。"], ["太差了", "屏幕清晰"]]


def test_long_training_texts_lend_their_sentences_with_their_label():
    from lstm_sentiment.data.dataset import with_sentences

    sample = LabelledTexts(
        ["这本书很好看。印刷也清楚！就是贵", "质量太差了；客服不理人~~发货也慢", "很满意。好", "一句话的评论", "印刷也清楚", "做工精细。就是贵了点！物超所值", "手感很好。太贵"],
        ["positive", "negative", "positive", "negative", "positive", "positive", "positive"],
        "shop:train",
    )
    held = (LabelledTexts(["发货也 慢"], ["negative"], "v"), LabelledTexts(["x"], ["negative"], "t"))
    # Another domain's test split counts as much as this one's validation split.
    other = tuple(LabelledTexts(texts, ["positive"] * len(texts), "o") for texts in (["y"], ["z"], ["就是贵了点"]))
    got = with_sentences(sample, [*held, *other[1:]])
    n = len(sample)
    assert got.texts[:n] == sample.texts and got.labels[:n] == sample.labels and got.source == "shop:train+sentences"
    # Kept: sentences of 4+ characters of texts holding two such, not a sample text (印刷也清楚), not held out
    # in any domain (发货也慢, spaces aside; 就是贵了点); 很满意 is 3 characters and 好 1, so 很满意。好 lends
    # nothing, nor does 手感很好。太贵 (one sentence of 4 characters).
    assert list(zip(got.texts[n:], got.labels[n:])) == [
        ("这本书很好看", "positive"), ("质量太差了", "negative"), ("客服不理人", "negative"), ("做工精细", "positive"), ("物超所值", "positive"),
    ]
    twice = LabelledTexts(["物流很快。质量一般般", "质量一般般。物流很快", "不值这个价！质量一般般"], ["positive", "positive", "negative"], "s")
    # A sentence given under both labels is left out; one given twice under one label is kept once.
    assert with_sentences(twice, held).texts[3:] == ["物流很快", "不值这个价"]
    # Read as the model reads them: a held-out text ending in a stop is the sentence without it (the shipped
    # zh model of 2026-12-06 had trained on 176 such), the ";" of &quot; ends no sentence, and a piece of
    # emoji or a link alone (nothing the model reads as a word) is no sentence.
    read = LabelledTexts(["房间干净又整洁。价格也很公道", "书的质量&quot;非常好&quot;，值得购买。印刷精美", "服务很好。😀😀😀😀。www.example.com"], ["positive"] * 3, "r")
    assert with_sentences(read, [LabelledTexts(["房间干净又整洁！"], ["positive"], "v")]).texts[3:] == ["价格也很公道", '书的质量"非常好"，值得购买', "印刷精美"]


def test_shipped_zh_mixture_caps_shopping_alone_and_gives_zh_reviews_twice(monkeypatch):
    # Rounds 27 and 28 of docs/recipe.md: every zh domain whole but shopping, zh-reviews' texts twice, after the
    # sentences.
    from lstm_sentiment.data.domains import mixture
    from lstm_sentiment.training import shipped

    def split(name, n):
        texts = [f"{name}{i}号评论写得很长。第二句也够长" for i in range(n)]
        train = LabelledTexts(texts, ["positive", "negative"] * (n // 2), f"{name}:train")
        return train, LabelledTexts([f"{name}验证"], ["positive"], "v"), LabelledTexts([f"{name}测试"], ["negative"], "t")

    monkeypatch.setitem(shipped.DOMAIN_CAP, "zh", {"shopping": 4})
    splits = {"zh-reviews": split("评", 6), "shopping": split("购", 10), "movies": split("影", 8)}
    assert [len(mixture({k: v}, 0, {"shopping": 4})) for k, v in splits.items()] == [6, 4, 8]
    whole, trained = shipped.training_texts("zh", splits)
    once = mixture(splits, 0, {"shopping": 4})
    assert whole.texts == once.texts + splits["zh-reviews"][0].texts and whole.labels == once.labels + splits["zh-reviews"][0].labels
    # Each of the 18 texts lends its first sentence; the second, the same in all, is given under both labels.
    sentences = trained.texts[len(once):-6]
    assert len(sentences) == 18 and trained.texts[-6:] == splits["zh-reviews"][0].texts and len(trained) - len(whole) == len(sentences)
    # A build on other domains (the tests' stand-in data for make models) has no zh-reviews to give again.
    del splits["zh-reviews"]
    whole, trained = shipped.training_texts("zh", splits)
    assert whole.texts == mixture(splits, 0, {"shopping": 4}).texts


def test_shipped_caps_and_weights_name_domains_of_their_language():
    # mixture takes a domain its cap does not name whole: a misspelt name ("shoping") would train on all 48,423
    # shopping texts and the card would say it capped them.
    from lstm_sentiment.training import shipped

    for lang in ("zh", "en"):
        named = {line.split(":")[0] for line in shipped.PROVENANCE[lang]}
        cap = shipped.DOMAIN_CAP[lang]
        assert set(cap if isinstance(cap, dict) else {}) | set(shipped.DOMAIN_WEIGHT[lang]) <= named, lang
        assert all(isinstance(w, int) and w >= 2 for w in shipped.DOMAIN_WEIGHT[lang].values())


def test_an_unknown_suffix_names_the_formats_each_command_reads(tmp_path):
    # "use .csv, .tsv, .jsonl or .txt" was said to train, which refuses .txt (no header; new user's trial).
    from lstm_sentiment.data.files import file_format

    (tmp_path / "reviews.xlsx").write_bytes(b"text,label\n")
    with pytest.raises(SentimentError, match=r"reviews\.xlsx: unknown file type '\.xlsx'; use \.csv, \.tsv or \.jsonl with a header \(predict also reads \.txt, one text a line, and any name with --input-format\)$"):
        file_format(tmp_path / "reviews.xlsx")
