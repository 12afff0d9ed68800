# SPDX-License-Identifier: MIT OR Apache-2.0
"""Labeled texts in memory: a ``senti_dataset`` for training and evaluation without files."""

from __future__ import annotations

import ctypes
import operator
import weakref
from typing import Iterable, Optional, Sequence, SupportsIndex, Union, cast

from . import _util, errors
from ._lib import lib

__all__ = ["Dataset"]

# A class: its name, or its index into the declared labels.
Label = Union[str, bytes, SupportsIndex]
Example = tuple[_util.TextLike, Label]


def _label_index(label: Label) -> Optional[int]:
    """The label as an int index, or None when it is a name."""
    if isinstance(label, (str, bytes)) or isinstance(label, bool):
        return None
    try:
        return operator.index(label)
    except TypeError:
        return None


class Dataset(_util.Owned):
    """Labeled texts held by the library (``senti_dataset``), for :func:`senti.train` and
    :meth:`senti.Model.evaluate`. Texts and labels are copied in.

        ds = senti.Dataset([("the striker scored", "sports"), ("shares fell", "business")])
        ds = senti.Dataset(labels=["sports", "business", "politics"])  # declared order
        ds.add("the senate voted", "politics")
        ds.add("a late goal", 0)               # an index into the declared labels
        ds.extend(pairs)                        # many (text, label) pairs at once
        len(ds)

    Without declared labels the classes are inferred by the library when training: ordered by
    number when every name is a number, else by bytes; an int label is then taken as the name
    ``str(label)``. With declared labels (``labels=`` or :meth:`set_labels`, once, before any
    example) every label must be one of them, by name or by index. A refused batch adds
    nothing. Several threads may add to one dataset at once.
    """

    __slots__ = ("_h", "_finalizer", "_labels", "__weakref__")

    def __init__(
        self,
        examples: Optional[Iterable[Example]] = None,
        *,
        labels: Optional[Iterable[object]] = None,
    ) -> None:
        h = ctypes.c_void_p()
        errors.call(lib.senti_dataset_new, ctypes.byref(h))
        self._h = h.value
        self._finalizer = weakref.finalize(self, lib.senti_dataset_free, self._h)
        self._labels: Optional[tuple[str, ...]] = None
        if labels is not None:
            self.set_labels(labels)
        if examples is not None:
            self.extend(examples)

    @property
    def _handle(self) -> Optional[int]:
        if not self._finalizer.alive:
            raise errors.SentiError(errors.code("SENTI_ERR_INVALID_HANDLE"), "the dataset is closed")
        return self._h

    @property
    def labels(self) -> Optional[tuple[str, ...]]:
        """The declared class names (a tuple), or None when they are inferred at training."""
        return self._labels

    def set_labels(self, names: Iterable[object]) -> None:
        """Declares the class names in index order (at least two, distinct), once, before the
        first example."""
        label_names = [str(n) if not isinstance(n, (str, bytes)) else n for n in names]
        arr, _keep = _util.cstrings(label_names, "labels")
        errors.call(lib.senti_dataset_set_labels, self._handle, arr, len(label_names))
        self._labels = tuple(n if isinstance(n, str) else n.decode("utf-8") for n in label_names)

    def _name(self, label: Label) -> bytes:
        index = _label_index(label)
        if index is None:
            return _util.cstr(label, "label")
        if self._labels is None:
            return str(index).encode()
        if not 0 <= index < len(self._labels):
            raise errors.SentiError(
                errors.code("SENTI_ERR_INVALID_ARGUMENT"),
                f"label index {index} is not below the {len(self._labels)} declared labels",
            )
        return self._labels[index].encode("utf-8")

    def add(self, text: _util.TextLike, label: Label) -> None:
        """Adds one example: ``text`` with the class ``label`` (a name, or an index into the
        declared labels)."""
        t = _util.text_bytes(text)
        errors.call(lib.senti_dataset_add, self._handle, t, len(t), self._name(label))

    def extend(self, examples: Iterable[Example]) -> None:
        """Adds many (text, label) pairs in one call (nothing is added if one is refused)."""
        texts, labels = [], []
        for i, example in enumerate(examples):
            try:
                text, label = example
            except (TypeError, ValueError):
                raise TypeError(
                    f"senti: example {i} must be a (text, label) pair, not {example!r:.80}"
                ) from None
            texts.append(text)
            labels.append(label)
        self.add_texts(texts, labels)

    def add_texts(self, texts: Sequence[_util.TextLike], labels: Sequence[Label]) -> None:
        """Adds ``texts[i]`` with ``labels[i]`` (two sequences of the same length)."""
        texts = list(texts)
        labels = list(labels)
        if len(texts) != len(labels):
            raise errors.SentiError(
                errors.code("SENTI_ERR_INVALID_ARGUMENT"),
                f"{len(texts)} texts but {len(labels)} labels",
            )
        if not texts:
            return
        ct = _util.CTexts([_util.text_bytes(t, f"texts[{i}]") for i, t in enumerate(texts)])
        indices = [_label_index(lab) for lab in labels]
        if self._labels is not None and all(i is not None for i in indices):
            known = cast("list[int]", indices)  # all() above does not narrow the element type
            if any(i < 0 or i > 0xFFFFFFFF for i in known):
                raise errors.SentiError(
                    errors.code("SENTI_ERR_INVALID_ARGUMENT"), "a label index is negative or too large"
                )
            arr = (ctypes.c_uint32 * len(known))(*known)
            errors.call(lib.senti_dataset_add_indexed, self._handle, ct.ptrs, ct.lens, arr, ct.count)
            return
        names = [self._name(lab) for lab in labels]
        name_arr = (ctypes.c_char_p * len(names))(*names)
        errors.call(lib.senti_dataset_add_batch, self._handle, ct.ptrs, ct.lens, name_arr, ct.count)

    def __len__(self) -> int:
        n = ctypes.c_size_t()
        errors.call(lib.senti_dataset_count, self._handle, ctypes.byref(n))
        return n.value

    def __repr__(self) -> str:
        if not self._finalizer.alive:
            return "<senti.Dataset closed>"
        return f"<senti.Dataset {len(self)} examples, labels={self._labels!r}>"



def coerce(data: Union[Dataset, Iterable[Example]], what: str = "data") -> tuple[Dataset, bool]:
    """A Dataset from a Dataset or an iterable of (text, label) pairs. Returns (dataset, owned)."""
    if isinstance(data, Dataset):
        return data, False
    if _util.is_path(data):
        raise TypeError(f"senti: {what} must be a Dataset or (text, label) pairs here, not a path")
    try:
        it = iter(data)
    except TypeError:
        raise TypeError(
            f"senti: {what} must be a path, a senti.Dataset or (text, label) pairs, not {type(data).__name__}"
        ) from None
    return Dataset(it), True
