# The two commands of the README: `make demo` (main job) and `make test` (the test suite).
# Each creates .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench benchmarks models

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Main job: train the zh model from scratch on the built-in corpus, evaluate it on the test split,
# and classify a few sentences with it.
demo: $(STAMP)
	$(VENV)/bin/lstm-sentiment train --data zh-reviews --out runs/zh
	$(VENV)/bin/lstm-sentiment evaluate --model runs/zh --data zh-reviews:test
	$(VENV)/bin/lstm-sentiment predict --model runs/zh "我喜欢这个电影" "我不喜欢这个电影" \
		"剧情拖沓，演员演技也很差，浪费时间" "物流很快，包装完好，质量不错，会回购" "這本書寫得真好" "一般般吧"

# pytest exits 5 when it collects no test; that must fail CI, and make propagates any non-zero exit.
# The browser test of `explain --html` drives Debian's chromium, installed here if missing (CI runs as root).
test: $(STAMP)
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python bench/core_lstm.py

# Every speed figure against its anchors (SnowNLP, bare torch.nn.LSTM); adds a dated section to BENCHMARKS.md.
benchmarks: $(STAMP)
	$(VENV)/bin/python bench/run.py

# Rebuild the two models shipped in the package (used when --model is omitted). zh uses the defaults.
MODELS := src/lstm_sentiment/assets/models
models: $(STAMP)
	$(VENV)/bin/lstm-sentiment train --data zh-reviews --out $(MODELS)/zh
	$(VENV)/bin/lstm-sentiment train --data ../shared/data/sst2/train.csv --valid ../shared/data/sst2/dev.csv \
		--out $(MODELS)/en --word-dropout 0.1 --lr 3e-3
