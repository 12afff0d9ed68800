# SPDX-License-Identifier: MIT OR Apache-2.0
"""Conversions between Python values and the C API's arguments (private)."""

from __future__ import annotations

import ctypes
import os
import weakref
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence, TypeVar, Union

from . import errors

if TYPE_CHECKING:
    # TypeIs is in typing from 3.13; typing_extensions' stubs ship with the type checker.
    from typing_extensions import TypeIs

# A text: str, or UTF-8 in any bytes-like object (the library checks the UTF-8).
TextLike = Union[str, bytes, bytearray, memoryview]
# A path, as os.fsencode takes it.
StrOrBytesPath = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

_INVALID_ARGUMENT = errors.code("SENTI_ERR_INVALID_ARGUMENT")
_BUFFER_TOO_SMALL = errors.code("SENTI_ERR_BUFFER_TOO_SMALL")


def text_bytes(text: TextLike, what: str = "text") -> bytes:
    """A text as UTF-8 bytes with an explicit length (so it may hold NUL bytes). ``str`` is
    encoded; ``bytes``-like values are passed as they are (the library checks the UTF-8). A lone
    surrogate is passed through, so the library reports it as SENTI_ERR_INVALID_UTF8."""
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"senti: {what} must be str or bytes, not {type(text).__name__}")


def cstr(value: object, what: str) -> bytes:
    """A NUL-terminated UTF-8 argument (a field name, a label, JSON). A NUL byte inside it would
    silently cut it short, so it is refused (SENTI_ERR_INVALID_ARGUMENT)."""
    if isinstance(value, str):
        b = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray)):
        b = bytes(value)
    else:
        raise TypeError(f"senti: {what} must be str, not {type(value).__name__}")
    if b"\0" in b:
        raise errors.SentiError(_INVALID_ARGUMENT, f"{what} contains a NUL byte")
    return b


def cpath(path: StrOrBytesPath, what: str = "path") -> bytes:
    """A file system path (str, bytes or os.PathLike) as NUL-terminated bytes."""
    try:
        b = os.fsencode(path)
    except TypeError:
        raise TypeError(
            f"senti: {what} must be a str, bytes or os.PathLike path, not {type(path).__name__}"
        ) from None
    if b"\0" in b:
        raise errors.SentiError(_INVALID_ARGUMENT, f"{what} contains a NUL byte")
    return b


def is_path(value: object) -> TypeIs[StrOrBytesPath]:
    return isinstance(value, (str, bytes, os.PathLike))


class CTexts:
    """A batch of texts as the C API takes them: ``const char *const *`` and lengths. Holds the
    bytes alive for as long as the object lives."""

    __slots__ = ("count", "ptrs", "lens", "_keep")

    def __init__(self, encoded: Sequence[bytes]) -> None:
        n = len(encoded)
        self.count = n
        self._keep = encoded
        self.ptrs = (ctypes.c_char_p * n)(*encoded)
        self.lens = (ctypes.c_size_t * n)(*map(len, encoded))


def cstrings(
    values: Iterable[object], what: str
) -> tuple[ctypes.Array[ctypes.c_char_p], list[bytes]]:
    """An array of NUL-terminated strings (label names)."""
    encoded = [cstr(v, f"{what}[{i}]") for i, v in enumerate(values)]
    arr = (ctypes.c_char_p * len(encoded))(*encoded)
    return arr, encoded


def read_buffer(fn: Callable[..., int], *args: object) -> str:
    """Runs a call of the capacity protocol (``buffer, capacity, length_out, error_out`` last)
    until the text fits, and returns it decoded."""
    capacity = 512
    while True:
        buf = ctypes.create_string_buffer(capacity)
        need = ctypes.c_size_t(0)
        err = ctypes.c_void_p()
        status = fn(*args, buf, capacity, ctypes.byref(need), ctypes.byref(err))
        exc = errors.take(status, err)
        if exc is not None and status == _BUFFER_TOO_SMALL and need.value >= capacity:
            capacity = need.value + 1
            continue
        if exc is not None:
            raise exc
        return buf.raw[: need.value].decode("utf-8")


_OwnedT = TypeVar("_OwnedT", bound="Owned")


class Owned:
    """A library object that the Python object owns through ``self._finalizer`` (a
    ``weakref.finalize`` freeing it): freed by :meth:`close`, at the end of a ``with`` block or
    when garbage-collected, whichever comes first; closing twice is harmless."""

    __slots__ = ()

    # In each subclass's __slots__; declared here for closed and close.
    _finalizer: weakref.finalize[[Optional[int]], Owned]

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Frees the library object now. Calls already running on other threads finish; later
        calls raise :class:`senti.InvalidHandleError`."""
        self._finalizer()

    def __enter__(self: _OwnedT) -> _OwnedT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
