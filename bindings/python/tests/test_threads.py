# SPDX-License-Identifier: MIT OR Apache-2.0
"""One model, many threads: predictions agree with a single thread's; close races safely."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import senti
from conftest import make_pairs


def test_threads_predicting_at_once_agree(model):
    texts = [t for t, _ in make_pairs(120, offset=300)]
    want_one = [model.predict(t) for t in texts]
    want_batch = model.predict_scores_batch(texts)
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        got = []
        for round_ in range(3):
            if (k + round_) % 2:
                got.append(("one", [model.predict(t) for t in texts]))
            else:
                got.append(("batch", model.predict_scores_batch(texts)))
        model.evaluate(make_pairs(30))
        model.info()
        return got

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for got in results:
        for kind, values in got:
            assert values == (want_one if kind == "one" else want_batch)


def test_close_while_other_threads_predict(pairs, tmp_path):
    path = tmp_path / "m.safetensors"
    with senti.train(pairs[:90], epochs=1, embedding_dim=8, hidden_size=8, threads=1,
                     vocab_size=100, max_len=16, embedding_pretrain_epochs=0) as m:
        m.save(path)
    m = senti.load(path)
    stop = threading.Event()
    failures = []

    def work():
        while not stop.is_set():
            try:
                m.predict_batch(["the goal and the match"] * 16)
            except senti.InvalidHandleError:
                return  # the only acceptable failure: the model was closed
            except BaseException as e:  # pragma: no cover - reported below
                failures.append(e)
                return

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    m.predict("warm up")
    m.close()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not failures
    with pytest.raises(senti.InvalidHandleError):
        m.predict("x")
