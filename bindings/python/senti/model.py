# SPDX-License-Identifier: MIT OR Apache-2.0
"""Models: loading, training (with a progress callback), prediction, evaluation, saving."""

from __future__ import annotations

import ctypes
import json
import operator
import os
import sys
import weakref
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Iterable,
    Literal,
    Optional,
    Sequence,
    SupportsIndex,
    Union,
    cast,
    overload,
)

from . import _util, errors
from . import dataset as _dataset
from . import params as _params
from ._lib import PREDICTED_CLASS, lib, progress_fn, senti_progress
from .explanation import Explanation

if TYPE_CHECKING:
    # numpy is optional: only the type checker imports it here.
    import numpy
    import numpy.typing as npt

# Integration steps of Model.explain (senti_explain).
DEFAULT_EXPLAIN_STEPS = 8
MAX_EXPLAIN_STEPS = 256

__all__ = ["Model", "Progress", "load", "train", "PHASE_BATCH", "PHASE_EPOCH", "PHASE_PRETRAIN"]

# senti_progress.phase (SENTI_PHASE_* of senti.h).
PHASE_BATCH = 0
PHASE_EPOCH = 1
PHASE_PRETRAIN = 2
_PHASE_NAMES = {PHASE_BATCH: "batch", PHASE_EPOCH: "epoch", PHASE_PRETRAIN: "pretrain"}


@dataclass(frozen=True)
class Progress:
    """One progress report (a copy of ``senti_progress``), passed to the ``progress`` callback
    of :func:`train` after every batch and every epoch."""

    phase: int  #: PHASE_BATCH, PHASE_EPOCH or PHASE_PRETRAIN
    epoch: int  #: 1-based epoch
    epochs: int  #: total epochs
    batch: int  #: 1-based batch within the epoch
    batches: int  #: batches per epoch
    loss: float  #: running mean training loss of the epoch (NaN while pretraining)
    accuracy: float  #: running mean training accuracy of the epoch
    val_loss: float  #: validation loss after the epoch; NaN in batch reports
    val_accuracy: float  #: validation accuracy after the epoch; NaN in batch reports

    @property
    def phase_name(self) -> str:
        """``"batch"``, ``"epoch"`` or ``"pretrain"``."""
        return _PHASE_NAMES.get(self.phase, str(self.phase))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def _from_c(cls, p: senti_progress) -> Progress:
        return cls(
            p.phase, p.epoch, p.epochs, p.batch, p.batches, p.loss, p.accuracy, p.val_loss, p.val_accuracy
        )


# A progress callback: its result is only tested for being false (but not None).
ProgressCallback = Callable[[Progress], object]


def _numpy_array(value: object) -> Optional[ModuleType]:
    """numpy, when ``value`` is a numpy array (numpy is only imported by the caller)."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return np
    return None


def _index(value: SupportsIndex, what: str) -> int:
    """An integer argument (int, numpy integer; not bool)."""
    if isinstance(value, bool):
        raise TypeError(f"senti: {what} must be an integer, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"senti: {what} must be an integer, not {type(value).__name__}") from None


def _encode_texts(texts: Iterable[_util.TextLike]) -> list[bytes]:
    if isinstance(texts, (str, bytes)):
        raise TypeError("senti: texts must be a sequence of texts, not one text")
    return [_util.text_bytes(t, f"texts[{i}]") for i, t in enumerate(texts)]


class Model(_util.Owned):
    """A trained classifier (``senti_model``). Obtained from :func:`load` or :func:`train`.

    Prediction, :meth:`explain`, evaluation, :meth:`info`, :meth:`save` and :attr:`labels`
    may run on one model from many threads at once; the GIL is released while the library
    works. :meth:`close` frees the model (a context manager and a finalizer do too; closing
    twice is harmless); every later call raises :class:`senti.InvalidHandleError`.
    """

    __slots__ = ("_h", "_finalizer", "_labels", "__weakref__")

    # Set by _adopt: there is no __init__ to infer them from.
    _h: Optional[int]
    _labels: Optional[tuple[str, ...]]

    def __init__(self) -> None:
        raise TypeError("senti.Model is made by senti.load or senti.train")

    @classmethod
    def _adopt(cls, handle: Optional[int]) -> Model:
        m = object.__new__(cls)
        m._h = handle
        m._finalizer = weakref.finalize(m, lib.senti_free, handle)
        m._labels = None
        return m

    @property
    def _handle(self) -> Optional[int]:
        if not self._finalizer.alive:
            raise errors.SentiError(errors.code("SENTI_ERR_INVALID_HANDLE"), "the model is closed")
        return self._h


    def __repr__(self) -> str:
        if self.closed:
            return "<senti.Model closed>"
        return f"<senti.Model labels={list(self.labels)!r}>"

    # --- labels --------------------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        """The class names, in score order (a tuple; fixed for the model's life)."""
        if self._labels is None:
            h = self._handle
            n = ctypes.c_size_t()
            errors.call(lib.senti_label_count, h, ctypes.byref(n))
            self._labels = tuple(
                _util.read_buffer(lib.senti_label_name, h, i) for i in range(n.value)
            )
        else:
            self._handle  # raises once closed
        return self._labels

    # --- prediction ----------------------------------------------------------------------

    def predict(self, text: _util.TextLike) -> tuple[str, float]:
        """The most likely class of one text: ``(label, probability)``. Ties go to the lower
        index. ``text`` is str (or UTF-8 bytes); it may be empty."""
        t = _util.text_bytes(text)
        index = ctypes.c_size_t()
        score = ctypes.c_float()
        errors.call(
            lib.senti_predict_label, self._handle, t, len(t), ctypes.byref(index), ctypes.byref(score)
        )
        return self.labels[index.value], score.value

    @overload
    def predict_scores(
        self, text: _util.TextLike, *, as_dict: Literal[True] = ...
    ) -> dict[str, float]: ...
    @overload
    def predict_scores(self, text: _util.TextLike, *, as_dict: Literal[False]) -> list[float]: ...
    @overload
    def predict_scores(
        self, text: _util.TextLike, *, as_dict: bool
    ) -> Union[dict[str, float], list[float]]: ...

    def predict_scores(
        self, text: _util.TextLike, *, as_dict: bool = True
    ) -> Union[dict[str, float], list[float]]:
        """Every class's probability for one text: a dict ``label -> probability`` in label
        order (``as_dict=False``: a list in :attr:`labels` order). They sum to 1."""
        labels = self.labels
        t = _util.text_bytes(text)
        k = len(labels)
        out = (ctypes.c_float * k)()
        errors.call(lib.senti_predict_scores, self._handle, t, len(t), out, k)
        scores = list(out)
        return dict(zip(labels, scores)) if as_dict else scores

    def _scores_batch(
        self,
        encoded: Sequence[bytes],
        out_ptr: Union[ctypes.Array[ctypes.c_float], ctypes._Pointer[ctypes.c_float]],
        k: int,
    ) -> None:
        ct = _util.CTexts(encoded)
        errors.call(
            lib.senti_predict_scores_batch, self._handle, ct.ptrs, ct.lens, ct.count, out_ptr, ct.count * k
        )

    @overload
    def predict_scores_batch(
        self, texts: Sequence[_util.TextLike], *, as_dict: Literal[False] = ...
    ) -> list[list[float]]: ...
    @overload
    def predict_scores_batch(
        self, texts: Sequence[_util.TextLike], *, as_dict: Literal[True]
    ) -> list[dict[str, float]]: ...
    @overload
    def predict_scores_batch(
        self, texts: Sequence[_util.TextLike], *, as_dict: bool
    ) -> Union[list[list[float]], list[dict[str, float]]]: ...
    @overload
    def predict_scores_batch(
        self, texts: npt.NDArray[Any], *, as_dict: bool = ...
    ) -> npt.NDArray[numpy.float32]: ...

    def predict_scores_batch(
        self, texts: Union[Sequence[_util.TextLike], npt.NDArray[Any]], *, as_dict: bool = False
    ) -> Union[list[list[float]], list[dict[str, float]], npt.NDArray[numpy.float32]]:
        """Every class's probability for many texts (one library call).

        A list (or any sequence) gives a list of lists in :attr:`labels` order (``as_dict=True``:
        a list of dicts). A numpy array of str gives a float32 array of shape
        ``texts.shape + (K,)``."""
        labels = self.labels
        k = len(labels)
        np = _numpy_array(texts)
        if np is not None:
            texts = cast("npt.NDArray[Any]", texts)  # what _numpy_array found
            flat = texts.ravel()
            out: npt.NDArray[numpy.float32] = np.empty((flat.shape[0], k), dtype=np.float32)
            if flat.shape[0]:
                self._scores_batch(
                    _encode_texts(flat.tolist()), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), k
                )
            return out.reshape(texts.shape + (k,))
        encoded = _encode_texts(texts)
        if not encoded:
            self._handle  # raises once closed
            return []
        buf = (ctypes.c_float * (len(encoded) * k))()
        self._scores_batch(encoded, buf, k)
        scores = list(buf)
        rows = [scores[i * k : (i + 1) * k] for i in range(len(encoded))]
        if as_dict:
            return [dict(zip(labels, row)) for row in rows]
        return rows

    @overload
    def predict_batch(self, texts: Sequence[_util.TextLike]) -> list[tuple[str, float]]: ...
    @overload
    def predict_batch(self, texts: npt.NDArray[Any]) -> npt.NDArray[numpy.void]: ...

    def predict_batch(
        self, texts: Union[Sequence[_util.TextLike], npt.NDArray[Any]]
    ) -> Union[list[tuple[str, float]], npt.NDArray[numpy.void]]:
        """The most likely class of each text (one library call; ties to the lower index).

        A list (or any sequence) of str gives a list of ``(label, probability)`` pairs. A numpy
        array of str gives a numpy structured array of the same shape with fields ``label``
        (str) and ``probability`` (float32): ``out["label"]``, ``out["probability"]``. An empty
        input gives an empty result."""
        np = _numpy_array(texts)
        labels = self.labels
        scores = self.predict_scores_batch(texts)
        if np is not None:
            # _numpy_array found an ndarray, so predict_scores_batch gave one.
            texts = cast("npt.NDArray[Any]", texts)
            scores = cast("npt.NDArray[numpy.float32]", scores)
            width = max(1, max(len(name) for name in labels))
            out: npt.NDArray[numpy.void] = np.empty(
                texts.shape, dtype=[("label", f"U{width}"), ("probability", np.float32)]
            )
            if scores.size:
                top = scores.argmax(axis=-1)
                out["label"] = np.asarray(labels)[top]
                out["probability"] = np.take_along_axis(scores, top[..., None], axis=-1)[..., 0]
            return out
        result = []
        for row in scores:
            best = max(range(len(row)), key=row.__getitem__)  # the first of equal maxima
            result.append((labels[best], row[best]))
        return result

    # --- explanation ---------------------------------------------------------------------

    def explain(
        self,
        text: _util.TextLike,
        label: Union[str, SupportsIndex, None] = None,
        steps: SupportsIndex = 0,
    ) -> Explanation:
        """Why ``text`` got its score: an :class:`senti.Explanation` holding every token with
        its place in the text and its signed contribution to the logit of one class.

        ``label``: the class to explain, by name (one of :attr:`labels`) or by index; None (the
        default) explains the predicted class. ``steps``: integration steps of the network's
        part, 1 to 256; 0 (the default) is 16. More steps leave less ``unexplained`` and cost
        proportionally more: an explanation costs about ``steps`` forward and backward passes
        over the text. ``text`` is str (or UTF-8 bytes).

        Each token's ``start`` and ``end`` are UTF-8 byte offsets into the text, as the C API
        gives them; ``char_start`` and ``char_end`` index the str, and ``text`` is the token's
        own substring, so non-ASCII text needs no arithmetic of its own.

        Errors: :class:`senti.InvalidArgumentError` for an unknown label, an index past the
        last class, or steps outside 0..256; :class:`senti.InvalidUtf8Error`."""
        t = _util.text_bytes(text)
        invalid = errors.code("SENTI_ERR_INVALID_ARGUMENT")
        steps = _index(steps, "steps")
        if not 0 <= steps <= 0xFFFFFFFF:  # the library checks the upper bound, 256
            raise errors.SentiError(
                invalid,
                f"integration steps must be between 0 (the default) and {MAX_EXPLAIN_STEPS}, "
                f"got {steps}",
            )
        if label is None:
            index = PREDICTED_CLASS
        elif isinstance(label, str):
            labels = self.labels
            if label not in labels:
                raise errors.SentiError(
                    invalid, f"unknown label {label!r}: the model's labels are {', '.join(labels)}"
                )
            index = labels.index(label)
        else:
            index = _index(label, "label (a name or an index)")
            if index < 0:
                raise errors.SentiError(invalid, f"class {index}: a class index is at least 0")
        h = ctypes.c_void_p()
        errors.call(lib.senti_explain, self._handle, t, len(t), index, steps, ctypes.byref(h))
        try:
            raw: Optional[bytes] = lib.senti_explanation_json(h.value)
            if raw is None:
                raise errors.SentiError(
                    errors.code("SENTI_ERR_INTERNAL"),
                    "senti_explanation_json returned NULL for a live explanation",
                )
            return Explanation._from_json(json.loads(raw.decode("utf-8")), t)
        finally:
            lib.senti_explanation_free(h.value)

    # --- evaluation ----------------------------------------------------------------------

    def evaluate(
        self,
        data: Union[
            _util.StrOrBytesPath, dict[str, Any], _dataset.Dataset, Iterable[_dataset.Example]
        ],
        *,
        format: Optional[str] = None,
        split: Optional[str] = None,
        limit: Optional[int] = None,
        part: Optional[str] = None,
    ) -> dict[str, Any]:
        """Evaluates the model on labeled data and returns the report as a dict:
        ``count``, ``accuracy``, ``loss``, ``macro_f1``, ``labels``, ``per_class`` (a list of
        ``{"label", "precision", "recall", "f1", "support"}``) and ``confusion``
        (``confusion[actual][predicted]``).

        ``data`` is a path (str or os.PathLike) to a file or folder in one of the library's
        formats (``format``: ``"auto"`` (default), ``"imdb-json"``, ``"aclimdb"``, ``"jsonl"``,
        ``"csv"``, ``"folders"``; ``split``: ``"test"`` (default for sources with splits) or
        ``"train"``; ``limit``: a class-balanced sample of that many; ``part``: ``"model"``,
        ``"recurrent"`` or ``"wide"``), a dict holding that data specification, a
        :class:`senti.Dataset`, or (text, label) pairs whose labels are the model's names."""
        options = {"format": format, "split": split, "limit": limit, "part": part}
        options = {k: v for k, v in options.items() if v is not None}
        if isinstance(data, dict) or _util.is_path(data):
            if isinstance(data, dict):
                spec = dict(data)
                spec.update(options)
            else:
                path = os.fspath(data)
                spec = {"path": os.fsdecode(path) if isinstance(path, bytes) else path, **options}
            report = ctypes.c_void_p()
            errors.call(
                lib.senti_evaluate_report,
                self._handle,
                _util.cstr(json.dumps(spec), "data specification"),
                ctypes.byref(report),
            )
        else:
            if options:
                raise TypeError(
                    "senti: format, split, limit and part apply to data on disk, not to a Dataset"
                )
            ds, owned = _dataset.coerce(data)
            try:
                report = ctypes.c_void_p()
                errors.call(lib.senti_evaluate_dataset, self._handle, ds._handle, ctypes.byref(report))
            finally:
                if owned:
                    ds.close()
        try:
            raw: Optional[bytes] = lib.senti_report_json(report.value)
            if raw is None:
                raise errors.SentiError(
                    errors.code("SENTI_ERR_INTERNAL"), "senti_report_json returned NULL for a live report"
                )
            doc: dict[str, Any] = json.loads(raw.decode("utf-8"))
            return doc
        finally:
            lib.senti_report_free(report.value)

    # --- description and files -----------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """The model's description (``senti_model_info``), parsed: library version, model and
        text configuration, labels, vocabulary size and the training record."""
        doc: dict[str, Any] = json.loads(_util.read_buffer(lib.senti_model_info, self._handle))
        return doc

    def set_prediction_threads(self, threads: int) -> None:
        """Sets between how many threads each later prediction and evaluation splits its
        reviews: 0 (the default) is one per available core, at most 1024. Scores do not depend
        on it."""
        if threads < 0:
            raise ValueError("prediction threads must be between 0 and 1024, got %d" % threads)
        errors.call(lib.senti_set_prediction_threads, self._handle, threads)

    def set_prediction_precision(self, precision: str) -> None:
        """Sets the precision at which each later prediction and evaluation stores the network's
        weights: ``"f32"`` (the default after loading: the weights as trained), ``"f16"`` (half
        floats, widened to f32 as they are read) or ``"i16"`` (the recurrent matrices as 16-bit
        integers and the input table as bytes, each with a scale per row: the fastest where the
        CPU has AVX2 but not AVX-512, and the least memory); both
        lower the latency per review, and scores move by about 1e-4. Arithmetic stays f32 and the wide path is unaffected; explanations integrate at
        f32 (the rounding shows in their unexplained part). Safe while
        other threads predict. Any other value raises :class:`senti.InvalidArgumentError` and
        changes nothing."""
        errors.call(
            lib.senti_set_prediction_precision, self._handle, _util.cstr(precision, "precision")
        )

    def save(self, path: _util.StrOrBytesPath) -> None:
        """Writes the model to ``path`` as one .safetensors file, atomically (a temporary file
        renamed over it). Safe while other threads predict."""
        errors.call(lib.senti_save, self._handle, _util.cpath(path))


def load(path: _util.StrOrBytesPath) -> Model:
    """Reads a model file written by :meth:`Model.save` (any shipped format version). A missing
    file raises :class:`senti.IoError`; a damaged or foreign one :class:`senti.ModelFileError`."""
    h = ctypes.c_void_p()
    errors.call(lib.senti_load, _util.cpath(path), ctypes.byref(h))
    return Model._adopt(h.value)


class _Callback:
    """The C trampoline for a progress callable, and what it caught."""

    def __init__(self, progress: Optional[ProgressCallback]) -> None:
        self.exc: Optional[BaseException] = None
        if progress is None:
            self.fn = progress_fn()  # NULL
            return
        if not callable(progress):
            raise TypeError(f"senti: progress must be callable, not {type(progress).__name__}")

        def trampoline(p: ctypes._Pointer[senti_progress], _user_data: Optional[int]) -> int:
            if self.exc is not None:
                return 1
            try:
                result = progress(Progress._from_c(p.contents))
            except BaseException as e:  # KeyboardInterrupt too: it stops training
                self.exc = e
                return 1
            return 1 if (result is not None and not result) else 0

        self.fn = progress_fn(trampoline)


def _run(
    run: Callable[[ctypes._CFunctionType, ctypes._CArgObject, ctypes._CArgObject], int],
    progress: Optional[ProgressCallback],
) -> Model:
    cb = _Callback(progress)
    h = ctypes.c_void_p()
    err = ctypes.c_void_p()
    status = run(cb.fn, ctypes.byref(h), ctypes.byref(err))
    exc = errors.take(status, err)
    if cb.exc is not None:
        if status == 0 and h.value:
            lib.senti_free(h.value)  # finished although the callback asked to stop
        raised, cb.exc = cb.exc, None
        raise raised  # the callback's own exception, as it was raised
    if exc is not None:
        raise exc
    return Model._adopt(h.value)


def train(
    data: Union[None, _util.StrOrBytesPath, _dataset.Dataset, Iterable[_dataset.Example]],
    *,
    params: Union[None, _params.Params, str, _params.ParamFields] = None,
    progress: Optional[ProgressCallback] = None,
    validation: Union[None, _dataset.Dataset, Iterable[_dataset.Example]] = None,
    labels: Optional[Iterable[object]] = None,
    **param_kwargs: _params.ParamValue,
) -> Model:
    """Trains a model and returns it.

    ``data``: a path (str or os.PathLike) to a file or folder in one of the library's formats
    (``.jsonl``, ``.csv``, ``.json`` (IMDB), an aclImdb folder, a folder per class; the
    ``data_format`` parameter overrides the choice by extension), a :class:`senti.Dataset`, or
    an iterable of ``(text, label)`` pairs; None trains on the ``data_path`` of ``params``.

    ``params``: a :class:`senti.Params`, a dict or a JSON string (None: the defaults); keyword
    arguments set further fields (``epochs=4, cell="gru"``). A Params passed in is not changed.

    ``validation``: a Dataset or pairs to validate on (training from memory only); without it
    ``validation_fraction`` of the training examples is held out. ``labels``: the class names
    in index order for pairs (default: inferred, ordered by number when all are numbers, else
    by bytes).

    ``progress``: a callable receiving a :class:`Progress` after every batch and every epoch,
    on this thread. Returning False (or any false value but None) cancels training:
    :class:`senti.CancelledError`. If it raises, training stops and ``train`` re-raises that
    exception itself (KeyboardInterrupt included).

    Errors: :class:`senti.ConfigError` for a bad parameter, :class:`senti.IoError` /
    :class:`senti.DataError` for unreadable or malformed data, ... (all :class:`senti.SentiError`).
    """
    owned: list[_util.Owned] = []
    try:
        p, owned_p = _params.coerce(params, param_kwargs)
        if owned_p:
            owned.append(p)
        if data is None or _util.is_path(data):
            if validation is not None or labels is not None:
                raise TypeError(
                    "senti: validation and labels apply to training from memory; for a file, "
                    "set validation_fraction (and name the labels in the file)"
                )
            if data is not None:
                if not owned_p:
                    p = p.copy()
                    owned.append(p)
                p.set_string("data_path", data)
            ph = p._handle
            return _run(lambda fn, out, err: lib.senti_train_params(ph, fn, None, out, err), progress)
        if isinstance(data, _dataset.Dataset):
            if labels is not None:
                raise TypeError("senti: labels are declared on the Dataset (Dataset(labels=...))")
            train_ds = data
        else:
            train_ds = _dataset.Dataset(labels=labels)
            owned.append(train_ds)
            train_ds.extend(data)
        val_h = None
        if validation is not None:
            val_ds, owned_v = _dataset.coerce(validation, "validation")
            if owned_v:
                owned.append(val_ds)
            val_h = val_ds._handle
        ph, th = p._handle, train_ds._handle
        return _run(
            lambda fn, out, err: lib.senti_train_dataset(ph, th, val_h, fn, None, out, err), progress
        )
    finally:
        for obj in owned:
            obj.close()
