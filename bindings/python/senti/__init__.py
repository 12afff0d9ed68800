# SPDX-License-Identifier: MIT OR Apache-2.0
"""libsenti for Python: train and serve LSTM/GRU text classifiers (K >= 2 labels).

A ctypes binding over the library's C ABI (senti.h); nothing to compile. The library is found
through ``SENTI_LIBRARY`` (a path), else the platform's library search and the usual prefixes.

    import senti

    model = senti.train([("what a goal", "sports"), ("shares fell", "business"), ...],
                        epochs=4, hidden_size=16, embedding_dim=16)
    label, p = model.predict("the striker scored twice")
    why = model.explain("the striker scored twice")   # each token's contribution
    model.save("topics.safetensors")
    model = senti.load("topics.safetensors")

Every library failure raises :class:`SentiError` (``.code``, ``.status``, ``.message``) or one
of its subclasses (:class:`ConfigError`, :class:`IoError`, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from ._lib import version as _library_version
from ._lib import version_number as _library_version_number
from .dataset import Dataset
from .errors import SentiError, error_class, status_name
from .explanation import Explanation, TokenContribution
from .model import PHASE_BATCH, PHASE_EPOCH, PHASE_PRETRAIN, Model, Progress, load, train
from .params import Params

__version__ = "0.2.0"

# The error subclasses (one per status code of the loaded library: ConfigError, IoError, ...).
for _name in errors.__all__:
    globals()[_name] = getattr(errors, _name)
del _name

if TYPE_CHECKING:
    # The error subclasses above are only known at import, from the library.
    def __getattr__(name: str) -> type[SentiError]: ...


def library_version() -> str:
    """The version of the loaded libsenti, e.g. ``"0.1.0"``."""
    return _library_version


def library_version_number() -> int:
    """The loaded libsenti's version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return _library_version_number


def library_path() -> str:
    """The path or name the library was loaded from."""
    from ._lib import path

    return path


__all__ = [
    "Dataset",
    "Explanation",
    "Model",
    "Params",
    "Progress",
    "SentiError",
    "TokenContribution",
    "PHASE_BATCH",
    "PHASE_EPOCH",
    "PHASE_PRETRAIN",
    "error_class",
    "library_path",
    "library_version",
    "library_version_number",
    "load",
    "status_name",
    "train",
]
# Apart, so that a type checker still reads the names above as the exports.
__all__ += [n for n in errors.__all__ if n.endswith("Error") and n != "SentiError"]
