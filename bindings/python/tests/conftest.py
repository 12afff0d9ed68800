# SPDX-License-Identifier: MIT OR Apache-2.0
"""Shared fixtures: tiny three-label data (the topics of tests/c/test_classes.c), small training
parameters that train in well under a second, and the repository's golden models."""

import json
import os
from pathlib import Path

import pytest

import senti

TOPICS = {
    "sports": ["goal", "match", "team", "league", "coach", "season", "score", "players"],
    "business": ["stocks", "market", "shares", "bank", "profit", "investors", "prices", "trade"],
    "politics": ["vote", "election", "party", "minister", "senate", "campaign", "policy", "law"],
}
# Not sorted, so that declared order is tested.
NAMES = ["sports", "business", "politics"]

# As in tests/c/test_classes.c: tiny, single-threaded, no word-vector pretraining.
SMALL = dict(
    epochs=4,
    embedding_dim=16,
    hidden_size=16,
    vocab_size=200,
    max_len=24,
    threads=1,
    embedding_pretrain_epochs=0,
    learning_rate=0.01,
    bidirectional=False,
)


def make_pairs(n=300, offset=0):
    pairs = []
    for j in range(n):
        i = j + offset
        name = NAMES[i % 3]
        w = TOPICS[name]
        text = f"the {w[i % 8]} and the {w[(i // 3 + 1) % 8]} of the {w[(i // 7 + 2) % 8]}, {w[(i // 5 + 3) % 8]} said"
        pairs.append((text, name))
    return pairs


PROBES = {
    "sports": "the coach and the players of the league",
    "business": "the shares and the profit of the bank",
    "politics": "the senate and the election of the minister",
}


def pytest_report_header(config):
    return f"senti {senti.__version__} from {os.path.dirname(senti.__file__)}; libsenti {senti.library_version()} from {senti.library_path()}"


@pytest.fixture(scope="session")
def repo_root():
    env = os.environ.get("SENTI_REPO_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[3]
    if not (root / "tests" / "golden").is_dir():
        pytest.skip(f"no libsenti source tree at {root} (set SENTI_REPO_ROOT)")
    return root


@pytest.fixture(scope="session")
def golden_dir(repo_root):
    return repo_root / "tests" / "golden"


@pytest.fixture(scope="session")
def pairs():
    return make_pairs()


@pytest.fixture(scope="session")
def model(pairs):
    """A three-label model trained once from memory, shared by the read-only tests."""
    m = senti.train(pairs, labels=NAMES, **SMALL)
    yield m
    m.close()


@pytest.fixture
def jsonl_file(tmp_path, pairs):
    path = tmp_path / "topics.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for text, label in pairs:
            f.write(json.dumps({"text": text, "label": label}) + "\n")
    return path
