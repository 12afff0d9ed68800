# SPDX-License-Identifier: MIT OR Apache-2.0
"""Prediction (one, batch, numpy), evaluation reports, info, labels, save and load, lifetime."""

import gc

import numpy as np
import pytest

import senti
from conftest import NAMES, PROBES, SMALL, make_pairs


def test_predict_and_scores(model):
    label, p = model.predict(PROBES["business"])
    assert label == "business" and 0.5 < p <= 1.0
    scores = model.predict_scores(PROBES["business"])
    assert list(scores) == NAMES  # label order
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert scores["business"] == pytest.approx(p)
    as_list = model.predict_scores(PROBES["business"], as_dict=False)
    assert as_list == list(scores.values())
    # Empty text, bytes, NUL bytes inside a text are all fine.
    assert model.predict("")[0] in NAMES
    assert model.predict(PROBES["sports"].encode())[0] == "sports"
    assert model.predict("the coach\0and the players")[0] in NAMES


def test_predict_batch_with_a_list(model):
    texts = list(PROBES.values()) + [""]
    out = model.predict_batch(texts)
    assert isinstance(out, list) and len(out) == 4
    assert [lab for lab, _ in out[:3]] == list(PROBES)
    for text, (label, p) in zip(texts, out):
        one = model.predict(text)
        assert label == one[0] and p == pytest.approx(one[1], abs=1e-6)
    rows = model.predict_scores_batch(texts)
    assert len(rows) == 4 and all(len(r) == 3 for r in rows)
    assert rows[0] == pytest.approx(model.predict_scores(texts[0], as_dict=False), abs=1e-6)
    dicts = model.predict_scores_batch(texts, as_dict=True)
    assert list(dicts[0]) == NAMES
    assert model.predict_batch([]) == [] and model.predict_scores_batch(()) == []
    assert model.predict_batch(t for t in texts) == out  # any iterable


def test_predict_batch_with_numpy(model):
    texts = np.array(list(PROBES.values()) + ["the"])
    out = model.predict_batch(texts)
    assert isinstance(out, np.ndarray) and out.shape == (4,)
    assert list(out["label"][:3]) == list(PROBES)
    assert out["probability"].dtype == np.float32
    listed = model.predict_batch(texts.tolist())
    assert [str(x) for x in out["label"]] == [lab for lab, _ in listed]
    np.testing.assert_allclose(out["probability"], [p for _, p in listed], atol=1e-6)
    # Shapes are kept; object arrays work; an empty array gives an empty array.
    grid = model.predict_scores_batch(texts.reshape(2, 2))
    assert grid.shape == (2, 2, 3) and grid.dtype == np.float32
    np.testing.assert_allclose(grid.sum(axis=-1), 1.0, atol=1e-5)
    obj = model.predict_batch(texts.astype(object).reshape(2, 2))
    assert obj.shape == (2, 2) and obj["label"][0, 0] == "sports"
    empty = model.predict_batch(np.array([], dtype=str))
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)
    assert model.predict_scores_batch(np.array([], dtype=str)).shape == (0, 3)


def test_evaluate_report_fields(model):
    held_out = make_pairs(60, offset=5000)
    report = model.evaluate(held_out)
    assert set(report) >= {"count", "accuracy", "loss", "macro_f1", "labels", "per_class", "confusion"}
    assert report["count"] == 60
    assert report["labels"] == NAMES
    assert 0.9 <= report["accuracy"] <= 1.0 and 0.9 <= report["macro_f1"] <= 1.0
    assert report["loss"] >= 0
    assert [c["label"] for c in report["per_class"]] == NAMES
    assert all(set(c) >= {"precision", "recall", "f1", "support"} for c in report["per_class"])
    assert sum(c["support"] for c in report["per_class"]) == 60
    confusion = report["confusion"]
    assert len(confusion) == 3 and all(len(r) == 3 for r in confusion)
    assert sum(map(sum, confusion)) == 60
    assert sum(confusion[i][i] for i in range(3)) == round(report["accuracy"] * 60)
    # A Dataset gives the same report.
    with senti.Dataset(held_out) as ds:
        assert model.evaluate(ds) == report


def test_evaluate_a_file_with_options(model, jsonl_file):
    report = model.evaluate(jsonl_file, limit=30)
    assert report["count"] == 30
    assert model.evaluate({"path": str(jsonl_file), "format": "jsonl"})["count"] == 300
    with pytest.raises(senti.SentiError):
        model.evaluate(jsonl_file, format="csv")  # not a CSV file


def test_evaluate_an_unknown_label_is_an_error(model):
    with pytest.raises(senti.SentiError) as e:
        model.evaluate([("the goal", "weather")])
    assert "weather" in e.value.message


def test_info_and_labels(model):
    info = model.info()
    assert info["labels"] == NAMES
    assert model.labels == tuple(NAMES)
    assert info["model_config"]["hidden_size"] == 16
    assert info["text_config"]["max_len"] == 24
    assert info["library_version"] == senti.library_version()
    assert len(info["training"]["history"]) >= 1


def test_save_and_load_give_the_same_scores(model, tmp_path):
    path = tmp_path / "topics.safetensors"
    model.save(path)
    texts = list(PROBES.values()) + ["", "the market and the vote"]
    with senti.load(str(path)) as back:
        assert back.labels == model.labels
        assert back.predict_scores_batch(texts) == model.predict_scores_batch(texts)
        assert back.info()["labels"] == NAMES
    # Saving over an existing file replaces it.
    model.save(str(path))
    senti.load(path).close()


def test_close_context_manager_and_finalizer(pairs, tmp_path):
    m = senti.train(pairs[:90], epochs=1, embedding_dim=8, hidden_size=8, threads=1,
                    vocab_size=100, max_len=16, embedding_pretrain_epochs=0)
    m.save(tmp_path / "m.safetensors")
    with m:
        assert not m.closed
    assert m.closed and "closed" in repr(m)
    m.close()  # twice is harmless
    for call in (
        lambda: m.predict("x"),
        lambda: m.predict_scores("x"),
        lambda: m.predict_batch(["x"]),
        lambda: m.predict_batch([]),
        lambda: m.evaluate(pairs[:3]),
        lambda: m.info(),
        lambda: m.labels,
        lambda: m.save(tmp_path / "again.safetensors"),
    ):
        with pytest.raises(senti.InvalidHandleError) as e:
            call()
        assert e.value.code == 3 and e.value.status == "SENTI_ERR_INVALID_HANDLE"
        assert "closed" in e.value.message
    # Models dropped without close are freed by the finalizer.
    for _ in range(20):
        senti.load(tmp_path / "m.safetensors")
    gc.collect()
    with pytest.raises(TypeError):
        senti.Model()


def test_prediction_threads_do_not_change_scores(model):
    texts = [PROBES[name] + " %d" % i for i in range(200) for name in NAMES][:200]
    base = model.predict_scores_batch(texts)
    try:
        for threads in (1, 3):
            model.set_prediction_threads(threads)
            assert model.predict_scores_batch(texts) == base
        with pytest.raises(senti.SentiError) as err:
            model.set_prediction_threads(5000)
        assert err.value.status == "SENTI_ERR_INVALID_ARGUMENT" and "between 0 and 1024" in err.value.message
    finally:
        model.set_prediction_threads(0)


def test_prediction_precisions_of_half_size_stay_close_and_f32_is_exact():
    pairs = [(t, label) for t, label in make_pairs(240) if label in ("sports", "business")]
    model = senti.train(pairs, labels=["sports", "business"], wide_ngrams=0, **SMALL)
    try:
        texts = [PROBES["sports"], PROBES["business"], "the coach and the shares", ""]
        base = model.predict_scores_batch(texts)
        for precision in ("f16", "i16"):
            model.set_prediction_precision(precision)
            half = model.predict_scores_batch(texts)
            assert len(half) == len(base)
            for row, want in zip(half, base):
                assert len(row) == 2 and all(0.0 <= s <= 1.0 for s in row)
                assert sum(row) == pytest.approx(1.0, abs=1e-5)
                assert row == pytest.approx(want, abs=1e-2)
        model.set_prediction_precision("f32")
        assert model.predict_scores_batch(texts) == base
        with pytest.raises(senti.InvalidArgumentError) as err:
            model.set_prediction_precision("f64")
        assert err.value.status == "SENTI_ERR_INVALID_ARGUMENT" and "f64" in err.value.message
        with pytest.raises(senti.InvalidArgumentError) as err:
            model.set_prediction_precision("f16\0")
        assert "NUL" in err.value.message
        with pytest.raises(TypeError):
            model.set_prediction_precision(None)
        assert model.predict_scores_batch(texts) == base
    finally:
        model.close()
