"""Shared fixtures: a small model trained once per test session on a slice of zh-reviews, and a headless
Chromium tab for the pages of explain and serve."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.corpus import load_zh_reviews
from lstm_sentiment.data.dataset import LabelledTexts

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items):
    """Mark by fixture, so a new test is sorted as soon as it asks for one: a trained model makes it slow
    (the session's first such test trains one), a Chromium tab makes it a browser test."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & {"small_bundle", "small_model"}:
            item.add_marker(pytest.mark.slow)
        if "chromium_tab" in used:
            item.add_marker(pytest.mark.browser)


def sliced(data: LabelledTexts, step: int) -> LabelledTexts:
    return LabelledTexts(data.texts[::step], data.labels[::step], data.source)


# The shipped zh word vectors (E = 100) with a small LSTM.
SMALL_MODEL = ModelConfig(hidden_size=32, dropout=0.3)
SMALL_TRAIN = TrainConfig(epochs=4, batch_size=32, lr=5e-3, patience=4, seed=3)


@pytest.fixture(scope="session")
def small_splits():
    train, valid, test = load_zh_reviews()
    return sliced(train, 5), sliced(valid, 5), sliced(test, 5)


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory, small_splits):
    """A bundle trained for 4 epochs on every 5th training text (about 2,800)."""
    from lstm_sentiment.training.train import train

    out = tmp_path_factory.mktemp("bundle") / "small-zh"
    metrics = train(*small_splits, out, SMALL_MODEL, DataConfig(), SMALL_TRAIN)
    return out, metrics


@pytest.fixture(scope="session")
def small_model(small_bundle):
    """:func:`small_bundle` loaded as a SentimentModel, shared by every test that only reads it."""
    from lstm_sentiment.inference.model import SentimentModel

    return SentimentModel.load(small_bundle[0])


def run_cli(*args: str, stdin: str | None = None, timeout: int = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m lstm_sentiment ARGS`` in a fresh process, as a user would run it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lstm_sentiment", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


@dataclass
class Tab:
    """A browser page with what it reported: console and script errors, and every URL it requested."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def cjk_font_loaded(self) -> bool:
        """Whether the page's own Chinese font has loaded."""
        fonts = self.page.evaluate(
            "async () => { await document.fonts.ready;"
            " return Array.from(document.fonts).map(f => f.family.replace(/\"/g, '') + ':' + f.status); }"
        )
        return "lstm-sentiment-cjk:loaded" in fonts

    def screenshot(self, name: str) -> None:
        """Save the whole page as test-artifacts/NAME, for a person to look at."""
        artifacts = REPO / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        self.page.screenshot(path=str(artifacts / name), full_page=True)


@pytest.fixture
def chromium_tab():
    """A 1200×900 tab of Debian's headless Chromium (``make test`` installs it), closed after the test."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs it (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            tab = Tab(browser.new_page(viewport={"width": 1200, "height": 900}))
            tab.page.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
            tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
            tab.page.on("request", lambda request: tab.requests.append(request.url))
            yield tab
        finally:
            browser.close()


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, pattern: str) -> None:
    """The command exited ``code`` with exactly one ``error: `` line on stderr, matching ``pattern``, and no traceback."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and re.search(pattern, errors[0]), result.stderr
