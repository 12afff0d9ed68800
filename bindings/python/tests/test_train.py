# SPDX-License-Identifier: MIT OR Apache-2.0
"""Training from memory (pairs, Datasets) and from files, parameters, the progress callback."""

import csv
import math

import pytest

import senti
from conftest import NAMES, PROBES, SMALL, make_pairs


def assert_learned(m):
    for label, text in PROBES.items():
        assert m.predict(text)[0] == label, (text, m.predict_scores(text))


def test_train_from_pairs_with_declared_labels(model):
    assert model.labels == tuple(NAMES)
    assert_learned(model)


def test_train_from_pairs_infers_sorted_labels(pairs):
    with senti.train(pairs, **SMALL) as m:
        assert m.labels == ("business", "politics", "sports")  # by bytes
        assert_learned(m)


def test_train_from_a_dataset_with_indices_and_validation(pairs):
    ds = senti.Dataset(labels=NAMES)
    ds.add_texts([t for t, _ in pairs], [NAMES.index(lab) for _, lab in pairs])  # by index
    assert len(ds) == 300 and ds.labels == tuple(NAMES)
    val = senti.Dataset(make_pairs(30, offset=1000))
    calls = []
    with senti.train(ds, validation=val, progress=calls.append, **SMALL) as m:
        assert m.labels == tuple(NAMES)
        assert_learned(m)
    epochs = [c for c in calls if c.phase == senti.PHASE_EPOCH]
    assert len(epochs) == SMALL["epochs"]
    assert not math.isnan(epochs[-1].val_accuracy)
    ds.close()
    val.close()


def test_train_from_a_jsonl_file(jsonl_file):
    with senti.train(jsonl_file, **SMALL) as m:  # an os.PathLike
        assert set(m.labels) == set(NAMES)
        assert_learned(m)
        report = m.evaluate(str(jsonl_file))
        assert report["count"] == 300 and report["accuracy"] > 0.9


def test_train_from_a_csv_file_with_params_data_path(tmp_path, pairs):
    path = tmp_path / "topics.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerows((label, text) for text, label in pairs)
    params = senti.Params(SMALL, data_path=str(path))
    with senti.train(None, params=params) as m:
        assert_learned(m)


def test_a_file_with_one_class_is_a_data_error(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text('{"text": "a b", "label": "x"}\n{"text": "c d", "label": "x"}\n')
    with pytest.raises(senti.DataError) as e:
        senti.train(path, **SMALL)
    assert e.value.code == senti.errors.code("SENTI_ERR_DATA")


def test_progress_is_called_with_every_field(pairs):
    calls = []

    def progress(p):
        calls.append(p)
        return True

    with senti.train(pairs, progress=progress, **SMALL):
        pass
    batches = [c for c in calls if c.phase == senti.PHASE_BATCH]
    epochs = [c for c in calls if c.phase == senti.PHASE_EPOCH]
    assert batches and len(epochs) == SMALL["epochs"]
    assert [c.epoch for c in epochs] == list(range(1, SMALL["epochs"] + 1))
    first = batches[0]
    assert first.epoch == 1 and first.batch == 1 and first.epochs == SMALL["epochs"]
    assert first.batches >= 1 and first.phase_name == "batch"
    assert math.isnan(first.val_loss) and not math.isnan(first.loss)
    assert 0.0 <= epochs[-1].accuracy <= 1.0
    assert set(first.as_dict()) == {
        "phase", "epoch", "epochs", "batch", "batches", "loss", "accuracy", "val_loss", "val_accuracy"
    }


class Boom(Exception):
    pass


def test_a_raising_callback_stops_training_and_its_exception_comes_out(pairs):
    calls = []
    mine = Boom("stop here")

    def progress(p):
        calls.append(p)
        if len(calls) == 2:
            raise mine

    with pytest.raises(Boom) as e:
        senti.train(pairs, progress=progress, **SMALL)
    assert e.value is mine  # the very exception, not a SentiError
    assert len(calls) == 2  # training stopped at once
    # The traceback reaches into the callback.
    assert any(tb.name == "progress" for tb in e.traceback)


def test_a_callback_returning_false_cancels(pairs):
    calls = []
    with pytest.raises(senti.CancelledError) as e:
        senti.train(pairs, progress=lambda p: calls.append(p) or len(calls) < 3, **SMALL)
    assert len(calls) == 3
    assert e.value.status == "SENTI_ERR_CANCELLED" and e.value.message
    assert isinstance(e.value, senti.SentiError)


def test_a_callback_returning_none_continues(pairs):
    with senti.train(pairs[:60], progress=lambda p: None, **dict(SMALL, epochs=1)) as m:
        assert len(m.labels) == 3


def test_params_typed_setters_and_json():
    p = senti.Params({"epochs": 5}, cell="gru", learning_rate=0.01, bidirectional=False)
    p.set_int("hidden_size", 32)
    p.set_float("dropout", 0.25)
    p.set_bool("restore_best", False)
    p.set_string("pooling", "max")
    p["seed"] = 7
    d = p.to_dict()
    assert d["epochs"] == 5 and d["cell"] == "gru" and d["hidden_size"] == 32
    assert d["dropout"] == 0.25 and d["restore_best"] is False and d["pooling"] == "max"
    assert d["bidirectional"] is False and d["seed"] == 7 and p["learning_rate"] == 0.01
    assert d["train_limit"] is None
    p["train_limit"] = 100
    assert p["train_limit"] == 100
    p.reset("train_limit")
    assert p["train_limit"] is None
    again = senti.Params.from_json(p.to_json())
    assert again == p and again.to_dict() == d
    assert senti.Params().to_dict()["epochs"] == 3  # the documented default
    p.set_int("seed", 2**64 - 1)  # beyond int64: through JSON
    assert p["seed"] == 2**64 - 1 and p["epochs"] == 5
    p.close()
    p.close()
    with pytest.raises(senti.InvalidHandleError):
        p.to_json()


def test_numpy_values_set_like_python_ones():
    np = pytest.importorskip("numpy")
    p = senti.Params(bidirectional=np.True_, epochs=np.int64(2), dropout=np.float64(0.25))
    d = p.to_dict()
    assert d["bidirectional"] is True and d["epochs"] == 2 and d["dropout"] == 0.25
    with pytest.raises(TypeError):
        p.set_int("epochs", np.False_)


def test_train_does_not_change_the_params_given(pairs):
    p = senti.Params(SMALL)
    before = p.to_json()
    with senti.train(pairs[:90], params=p, epochs=1):
        pass
    assert p.to_json() == before


def test_bad_parameters_carry_the_library_message():
    with pytest.raises(senti.ConfigError) as e:
        senti.Params(no_such_field=1)
    assert e.value.code == 5 and e.value.status == "SENTI_ERR_CONFIG"
    assert "no_such_field" in e.value.message
    with pytest.raises(senti.ConfigError) as e:
        senti.Params(epochs=0)  # out of range
    assert "epochs" in e.value.message
    with pytest.raises(senti.ConfigError) as e:
        senti.Params(epochs=2.0)  # a float for an integer field
    assert "epochs" in e.value.message
    with pytest.raises(senti.ConfigError) as e:
        senti.Params(cell="rnn")
    assert "cell" in e.value.message
    with pytest.raises(senti.ConfigError):
        senti.Params.from_json('{"epochs": ')
    # Checks across fields run when training starts.
    with pytest.raises(senti.ConfigError) as e:
        senti.train(make_pairs(30), **dict(SMALL, weight_decay=0.1))
    assert "weight_decay" in e.value.message
