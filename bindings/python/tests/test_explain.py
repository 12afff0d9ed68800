# SPDX-License-Identifier: MIT OR Apache-2.0
"""Model.explain: token spans (UTF-8 byte offsets and str offsets), the sum identity, classes by
name and index, two-label negation, the network's part, and errors."""

import json

import pytest

import senti
from conftest import NAMES, PROBES, SMALL, make_pairs


def check(e, text):
    """What holds for every explanation of ``text``."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    decoded = data.decode("utf-8")
    assert isinstance(e, senti.Explanation)
    assert e.method == "integrated_gradients" and 1 <= e.steps <= 256
    prev = 0
    for t in e.tokens:
        assert isinstance(t, senti.TokenContribution)
        assert prev <= t.start < t.end <= len(data), t
        prev = t.start
        # Byte offsets index the UTF-8 bytes; char offsets the str; both give the token's text.
        assert data[t.start : t.end].decode("utf-8") == t.text
        assert decoded[t.char_start : t.char_end] == t.text
        assert t.text.lower() == t.token
        assert t.network + t.wide == pytest.approx(t.contribution, abs=1e-5)
        if not t.read_by_network:
            assert t.network == 0.0
    total = e.reference + sum(t.contribution for t in e.tokens) + e.unexplained
    assert total == pytest.approx(e.logit, abs=1e-3)


def test_explain_the_predicted_class(model):
    text = "The SHARES and the Profit of the bank."
    e = model.explain(text)
    check(e, text)
    label, p = model.predict(text)
    assert (e.label, e.class_index) == (label, NAMES.index(label)) == ("business", 1)
    assert e.score == p  # the float32 the library computed, exactly
    assert e.steps == 8
    assert [t.token for t in e.tokens] == ["the", "shares", "and", "the", "profit", "of", "the", "bank", "."]
    assert [t.text for t in e.tokens][1] == "SHARES"
    # ASCII: byte offsets and str offsets agree.
    assert all((t.start, t.end) == (t.char_start, t.char_end) for t in e.tokens)
    assert text[e.tokens[4].start : e.tokens[4].end] == "Profit"
    top = max(e.tokens, key=lambda t: t.contribution)
    assert top.token in ("shares", "profit", "bank")


def test_every_class_by_name_and_index(model):
    text = PROBES["politics"]
    scores = model.predict_scores(text)
    for i, name in enumerate(NAMES):
        by_name = model.explain(text, name, steps=4)
        by_index = model.explain(text, i, 4)
        check(by_name, text)
        assert (by_name.class_index, by_name.label, by_name.steps) == (i, name, 4)
        assert by_name.score == scores[name]
        assert by_index == by_name
    assert model.explain(text, label=None).label == "politics"


def test_non_ascii_text(model):
    text = "Ünïcödé SHARES — 素晴らしい bank 😀"
    e = model.explain(text)
    check(e, text)
    assert [t.text for t in e.tokens] == ["Ünïcödé", "SHARES", "—", "素晴らしい", "bank", "😀"]
    assert [t.token for t in e.tokens] == ["ünïcödé", "shares", "—", "素晴らしい", "bank", "😀"]
    shares = e.tokens[1]
    # "Ünïcödé " is 8 characters but 12 bytes.
    assert (shares.start, shares.end, shares.char_start, shares.char_end) == (12, 18, 8, 14)
    assert text[shares.char_start : shares.char_end] == "SHARES"
    assert text.encode()[shares.start : shares.end] == b"SHARES"
    last = e.tokens[-1]
    assert last.end == len(text.encode()) and last.char_end == len(text)
    # UTF-8 bytes in: the same explanation, offsets into the decoded text.
    assert model.explain(text.encode("utf-8")) == e


def test_texts_without_words_and_past_max_len(model):
    for text in ("", "   ", "\0"):
        e = model.explain(text)
        assert e.tokens == () and e.label in NAMES
        check(e, text)
    # max_len is 24 and the end is kept: the first 12 of 36 tokens are not read by the network.
    text = "the vote " * 3 + "the bank and the shares " * 6
    e = model.explain(text)
    check(e, text)
    assert len(e.tokens) == 36
    assert [t.read_by_network for t in e.tokens] == [False] * 12 + [True] * 24


def test_as_dict_is_the_library_json(model):
    e = model.explain("the coach and the players")
    d = e.as_dict()
    assert list(d) == ["class", "label", "score", "logit", "reference", "unexplained", "method", "steps", "tokens"]
    assert list(d["tokens"][0]) == ["token", "start", "end", "contribution", "network", "wide", "read_by_network"]
    assert d["class"] == e.class_index and len(d["tokens"]) == len(e.tokens)
    json.dumps(d)


@pytest.fixture(scope="module", params=[2, 0], ids=["wide", "recurrent"])
def two_labels(request):
    """A two-label model, with the default wide path and without one (its explanations then
    come from the network alone: the tiny wide models learn to give the network no weight)."""
    pairs = [(t, label) for t, label in make_pairs(240) if label in ("sports", "business")]
    m = senti.train(pairs, labels=["sports", "business"], wide_ngrams=request.param, **SMALL)
    yield request.param, m
    m.close()


def test_two_labels_the_other_class_is_negated(two_labels):
    wide, m = two_labels
    text = "the coach and the shares of the league"
    e = m.explain(text)
    other = m.explain(text, 1 - e.class_index, steps=8)
    check(e, text)
    check(other, text)
    assert other.label == m.labels[1 - e.class_index]
    assert other.logit == pytest.approx(-e.logit, abs=1e-5)
    assert other.reference == pytest.approx(-e.reference, abs=1e-5)
    assert other.score == pytest.approx(1 - e.score, abs=1e-5)
    assert [t.token for t in other.tokens] == [t.token for t in e.tokens]
    for a, b in zip(other.tokens, e.tokens):
        assert a.contribution == pytest.approx(-b.contribution, abs=1e-5)
        assert a.network == pytest.approx(-b.network, abs=1e-5)
    if wide == 0:
        assert all(t.wide == 0.0 for t in e.tokens)
        assert any(t.network != 0.0 for t in e.tokens), e


def test_errors(model, pairs):
    with pytest.raises(senti.InvalidArgumentError) as err:
        model.explain("the goal", "weather")
    assert err.value.message == "unknown label 'weather': the model's labels are sports, business, politics"
    with pytest.raises(senti.InvalidArgumentError) as err:
        model.explain("the goal", 3)
    assert "3 labels" in err.value.message
    with pytest.raises(senti.InvalidArgumentError):
        model.explain("the goal", -1)
    with pytest.raises(senti.InvalidArgumentError) as err:
        model.explain("the goal", steps=257)
    assert "between 0" in err.value.message and err.value.status == "SENTI_ERR_INVALID_ARGUMENT"
    with pytest.raises(senti.InvalidArgumentError):
        model.explain("the goal", steps=-1)
    assert model.explain("the goal", steps=256).steps == 256
    with pytest.raises(TypeError):
        model.explain("the goal", steps=1.5)
    with pytest.raises(TypeError):
        model.explain("the goal", True)
    with pytest.raises(TypeError):
        model.explain(3)
    with pytest.raises(senti.InvalidUtf8Error):
        model.explain(b"bad \xff")
    m = senti.train(pairs[:60], epochs=1, embedding_dim=8, hidden_size=8, threads=1,
                    vocab_size=100, max_len=16, embedding_pretrain_epochs=0)
    m.close()
    with pytest.raises(senti.InvalidHandleError):
        m.explain("the goal")
    with pytest.raises(senti.InvalidHandleError):
        m.explain("the goal", "sports")
