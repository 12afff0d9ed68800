# SPDX-License-Identifier: MIT OR Apache-2.0
"""Finds and loads libsenti, and declares the ctypes signature of every function of senti.h.

Search order: the path in the environment variable ``SENTI_LIBRARY``; then the platform's
library search (``ctypes.util.find_library("senti")``: the linker cache, ``LD_LIBRARY_PATH``,
...); then the usual installation prefixes (``/usr/local/lib``, ``/usr/lib``, ...). The first
library that loads is checked for a compatible major version.

Everything here is private to the package; the rest of it calls ``lib.senti_*``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_float,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import TYPE_CHECKING, Iterator, Optional

if TYPE_CHECKING:
    from ctypes import _CDataType  # the stubs' name for any ctypes type; absent at run time

# The major version of libsenti this binding is written for (SENTI_VERSION_MAJOR of senti.h).
ABI_MAJOR = 0

# `SENTI_NUL_TERMINATED` (SIZE_MAX): unused by this binding, which always passes lengths.
NUL_TERMINATED = ctypes.c_size_t(-1).value

# `SENTI_PREDICTED_CLASS` (SIZE_MAX): the class index asking senti_explain for the predicted class.
PREDICTED_CLASS = ctypes.c_size_t(-1).value

status_t = c_int32
handle_t = c_void_p  # every handle is an opaque token; the library never dereferences it
handle_p = POINTER(c_void_p)
error_p = POINTER(c_void_p)


class senti_progress(Structure):
    """``struct senti_progress`` (later versions may append fields, never reorder them)."""

    _fields_ = [
        ("phase", c_int32),
        ("epoch", c_uint32),
        ("epochs", c_uint32),
        ("batch", c_uint32),
        ("batches", c_uint32),
        ("loss", c_double),
        ("accuracy", c_double),
        ("val_loss", c_double),
        ("val_accuracy", c_double),
    ]


class senti_evaluation(Structure):
    """``struct senti_evaluation``."""

    _fields_ = [
        ("count", c_uint64),
        ("true_positive", c_uint64),
        ("true_negative", c_uint64),
        ("false_positive", c_uint64),
        ("false_negative", c_uint64),
        ("loss", c_double),
        ("accuracy", c_double),
    ]


progress_fn = CFUNCTYPE(c_int32, POINTER(senti_progress), c_void_p)

texts_t = POINTER(c_char_p)  # const char *const *
lens_t = POINTER(c_size_t)  # const size_t *

# name: (restype, argtypes)
_SIGNATURES: dict[str, tuple[Optional[type[_CDataType]], list[type[_CDataType]]]] = {
    # versions and status names
    "senti_version": (c_char_p, []),
    "senti_version_number": (c_uint32, []),
    "senti_status_name": (c_char_p, [c_int32]),
    # errors
    "senti_error_code": (status_t, [c_void_p]),
    "senti_error_message": (c_char_p, [c_void_p]),
    "senti_error_free": (None, [c_void_p]),
    # training
    "senti_train": (status_t, [c_char_p, progress_fn, c_void_p, handle_p, error_p]),
    "senti_train_params": (status_t, [handle_t, progress_fn, c_void_p, handle_p, error_p]),
    "senti_train_dataset": (
        status_t,
        [handle_t, handle_t, handle_t, progress_fn, c_void_p, handle_p, error_p],
    ),
    # models
    "senti_load": (status_t, [c_char_p, handle_p, error_p]),
    "senti_save": (status_t, [handle_t, c_char_p, error_p]),
    "senti_set_prediction_threads": (status_t, [handle_t, ctypes.c_size_t, error_p]),
    "senti_set_prediction_precision": (status_t, [handle_t, c_char_p, error_p]),
    "senti_free": (None, [handle_t]),
    "senti_label_count": (status_t, [handle_t, POINTER(c_size_t), error_p]),
    "senti_label_name": (
        status_t,
        [handle_t, c_size_t, c_char_p, c_size_t, POINTER(c_size_t), error_p],
    ),
    "senti_predict": (status_t, [handle_t, c_char_p, c_size_t, POINTER(c_float), error_p]),
    "senti_predict_batch": (
        status_t,
        [handle_t, texts_t, lens_t, c_size_t, POINTER(c_float), error_p],
    ),
    "senti_predict_scores": (
        status_t,
        [handle_t, c_char_p, c_size_t, POINTER(c_float), c_size_t, error_p],
    ),
    "senti_predict_scores_batch": (
        status_t,
        [handle_t, texts_t, lens_t, c_size_t, POINTER(c_float), c_size_t, error_p],
    ),
    "senti_predict_label": (
        status_t,
        [handle_t, c_char_p, c_size_t, POINTER(c_size_t), POINTER(c_float), error_p],
    ),
    "senti_evaluate": (status_t, [handle_t, c_char_p, POINTER(senti_evaluation), error_p]),
    "senti_evaluate_texts": (
        status_t,
        [handle_t, texts_t, lens_t, POINTER(c_uint8), c_size_t, POINTER(senti_evaluation), error_p],
    ),
    "senti_evaluate_report": (status_t, [handle_t, c_char_p, handle_p, error_p]),
    "senti_evaluate_dataset": (status_t, [handle_t, handle_t, handle_p, error_p]),
    "senti_model_info": (status_t, [handle_t, c_char_p, c_size_t, POINTER(c_size_t), error_p]),
    # reports
    "senti_report_json": (c_char_p, [handle_t]),
    "senti_report_free": (None, [handle_t]),
    # explanations
    "senti_explain": (
        status_t,
        [handle_t, c_char_p, c_size_t, c_size_t, c_uint32, handle_p, error_p],
    ),
    "senti_explanation_class": (
        status_t,
        [handle_t, POINTER(c_size_t), POINTER(c_float), POINTER(c_float), POINTER(c_float), error_p],
    ),
    "senti_explanation_token_count": (status_t, [handle_t, POINTER(c_size_t), error_p]),
    "senti_explanation_token": (
        status_t,
        [handle_t, c_size_t, POINTER(c_size_t), POINTER(c_size_t), POINTER(c_float), error_p],
    ),
    "senti_explanation_json": (c_char_p, [handle_t]),
    "senti_explanation_free": (None, [handle_t]),
    # parameters
    "senti_params_new": (status_t, [handle_p, error_p]),
    "senti_params_from_json": (status_t, [c_char_p, handle_p, error_p]),
    "senti_params_set_int": (status_t, [handle_t, c_char_p, c_int64, error_p]),
    "senti_params_set_float": (status_t, [handle_t, c_char_p, c_double, error_p]),
    "senti_params_set_bool": (status_t, [handle_t, c_char_p, c_bool, error_p]),
    "senti_params_set_string": (status_t, [handle_t, c_char_p, c_char_p, error_p]),
    "senti_params_reset": (status_t, [handle_t, c_char_p, error_p]),
    "senti_params_to_json": (status_t, [handle_t, c_char_p, c_size_t, POINTER(c_size_t), error_p]),
    "senti_params_free": (None, [handle_t]),
    # datasets
    "senti_dataset_new": (status_t, [handle_p, error_p]),
    "senti_dataset_set_labels": (status_t, [handle_t, texts_t, c_size_t, error_p]),
    "senti_dataset_add": (status_t, [handle_t, c_char_p, c_size_t, c_char_p, error_p]),
    "senti_dataset_add_batch": (status_t, [handle_t, texts_t, lens_t, texts_t, c_size_t, error_p]),
    "senti_dataset_add_indexed": (
        status_t,
        [handle_t, texts_t, lens_t, POINTER(c_uint32), c_size_t, error_p],
    ),
    "senti_dataset_count": (status_t, [handle_t, POINTER(c_size_t), error_p]),
    "senti_dataset_free": (None, [handle_t]),
}


def _candidates() -> Iterator[tuple[str, str]]:
    """Yields (description, name-or-path) pairs to try, in order."""
    env = os.environ.get("SENTI_LIBRARY")
    if env:
        yield "SENTI_LIBRARY", env
        return  # an explicit choice is not second-guessed
    found = ctypes.util.find_library("senti")
    if found:
        yield 'ctypes.util.find_library("senti")', found
    if sys.platform == "darwin":
        names = ["libsenti.dylib"]
        dirs = ["/usr/local/lib", "/opt/homebrew/lib", "/usr/lib"]
    elif sys.platform == "win32":
        names = ["senti.dll", "libsenti.dll"]
        dirs = []
    else:
        names = ["libsenti.so"]
        dirs = ["/usr/local/lib", "/usr/local/lib64", "/usr/lib", "/usr/lib64"]
    for name in names:
        yield "the dynamic loader's search path", name
    for d in dirs:
        for name in names:
            yield "the install prefix " + d, os.path.join(d, name)


def _load() -> tuple[ctypes.CDLL, str]:
    tried: list[str] = []
    for how, what in _candidates():
        try:
            return ctypes.CDLL(what), what
        except OSError as e:
            tried.append(f"  {what} ({how}): {e}")
    raise ImportError(
        "senti: cannot load libsenti. Tried:\n"
        + ("\n".join(tried) if tried else "  (nothing: find_library found no libsenti)")
        + "\nBuild it (cargo build --release) and set SENTI_LIBRARY to the path of "
        "libsenti.so, or install it (bindings/install.sh) into a prefix the loader searches."
    )


def _declare(cdll: ctypes.CDLL) -> None:
    """Sets restype and argtypes of every function (an unknown one means a library too old)."""
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            raise ImportError(
                f"senti: {path} (libsenti {version}) has no function {name}: the library is "
                "older than this binding"
            ) from None
        fn.restype = restype
        fn.argtypes = argtypes


lib, path = _load()
for _name in ("senti_version", "senti_version_number"):
    if not hasattr(lib, _name):
        raise ImportError(f"senti: {path} has no function {_name}: it is not libsenti")
lib.senti_version.restype, lib.senti_version.argtypes = c_char_p, []
lib.senti_version_number.restype, lib.senti_version_number.argtypes = c_uint32, []
version_number: int = lib.senti_version_number()
version: str = lib.senti_version().decode("utf-8")
if version_number // 10000 != ABI_MAJOR:
    raise ImportError(
        f"senti: {path} is libsenti {version} (version number {version_number}), but this "
        f"binding needs major version {ABI_MAJOR}.x"
    )
_declare(lib)
