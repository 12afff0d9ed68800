# SPDX-License-Identifier: MIT OR Apache-2.0
"""The committed golden models (tests/golden/v<N>/) load and give the recorded answers, as in
tests/compat.rs: every class's scores (format 2 on) or P(positive) (format 1), within 1e-4."""

import json

import numpy as np
import pytest

import senti

TOLERANCE = 1e-4


def golden_models(golden_dir):
    return sorted(golden_dir.glob("v*/*.safetensors"))


def recorded(path):
    record = json.loads(path.with_name(path.name.replace(".safetensors", ".predictions.json")).read_text())
    return record


def test_there_are_golden_models_of_both_formats(golden_dir):
    models = golden_models(golden_dir)
    assert len(models) >= 5, models
    assert {p.parent.name for p in models} >= {"v1", "v2"}


def test_every_golden_model_predicts_as_recorded(golden_dir):
    texts = (golden_dir / "texts.txt").read_text(encoding="utf-8").splitlines()
    assert len(texts) == 10
    for path in golden_models(golden_dir):
        rec = recorded(path)
        with senti.load(path) as m:
            scores = m.predict_scores_batch(texts)
            assert len(scores) == len(texts)
            if "scores" in rec:
                assert list(m.labels) == rec["labels"], path
                want = rec["scores"]
            else:
                # Format 1: two labels, the probability of the second (positive).
                assert m.labels == ("negative", "positive"), path
                want = [[1.0 - p, p] for p in rec["positive"]]
            for i, (got, row) in enumerate(zip(scores, want)):
                assert got == pytest.approx(row, abs=TOLERANCE), f"{path} text {i}"
                alone = m.predict_scores(texts[i], as_dict=False)
                assert alone == pytest.approx(row, abs=TOLERANCE), f"{path} text {i} alone"
                label, p = m.predict(texts[i])
                best = max(range(len(row)), key=row.__getitem__)
                assert label == m.labels[best] and p == pytest.approx(row[best], abs=TOLERANCE)
            # numpy in, numpy out: the same figures.
            arr = m.predict_scores_batch(np.array(texts))
            assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
            assert arr.shape == (len(texts), len(m.labels))
            np.testing.assert_allclose(arr, np.array(want), atol=TOLERANCE)


def test_golden_model_info(golden_dir):
    with senti.load(golden_dir / "v2" / "newsgroups20-gru-wide.safetensors") as m:
        info = m.info()
        assert isinstance(info, dict)
        assert info["labels"] == list(m.labels)
        assert len(m.labels) == 20
        assert info["library_version"]
        assert "model_config" in info and "training" in info
