# SPDX-License-Identifier: MIT OR Apache-2.0
"""The error model: every failure of the library is a :class:`SentiError`.

A :class:`SentiError` carries the library's stable status ``code`` (an int), its ``status``
name as the library spells it (``senti_status_name``, e.g. ``"SENTI_ERR_CONFIG"``) and the
full ``message`` of the library's error object (``senti_error_message``). The binding always
asks for the error object and always frees it before raising.

One subclass exists per status code the loaded library defines, named from the status name
(``SENTI_ERR_CONFIG`` -> :class:`ConfigError`, ``SENTI_ERR_IO`` -> ``IoError``, ...); they are
discovered from the library at import (nothing here is a hand-kept list of codes), and
``SentiError(code, message)`` returns an instance of the matching subclass. Catch
:class:`SentiError` for any library failure, or a subclass for one kind.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Callable, Optional, Union, cast

from ._lib import lib

__all__ = ["SentiError", "error_class", "status_name", "STATUS_CODES"]

_UNKNOWN = "SENTI_UNKNOWN_STATUS"


def status_name(code: int) -> str:
    """The library's name for a status code, e.g. ``"SENTI_ERR_IO"``, or
    ``"SENTI_UNKNOWN_STATUS"`` for a code this library version does not define."""
    name: Optional[bytes] = lib.senti_status_name(int(code))
    return name.decode("utf-8") if name else _UNKNOWN


class SentiError(Exception):
    """A failure reported by libsenti (or by one of this binding's own argument checks, which
    use the library's codes).

    Attributes:
        code: the status code (int), stable across versions.
        status: its name from the library, e.g. ``"SENTI_ERR_CONFIG"``.
        message: the library's full message (names the field, file, line, ...).
    """

    def __new__(cls: type[SentiError], code: int, message: str = "") -> SentiError:
        if cls is SentiError:
            cls = _CLASSES.get(int(code), SentiError)
        return super().__new__(cls, code, message)

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(int(code), message)
        self.code = int(code)
        self.status = status_name(self.code)
        self.message = message

    def __str__(self) -> str:
        return f"{self.status}: {self.message}" if self.message else self.status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, status={self.status!r}, message={self.message!r})"


def _class_name(status: str) -> str:
    # SENTI_ERR_INVALID_ARGUMENT -> InvalidArgumentError, SENTI_ERR_IO -> IoError
    stem = status[len("SENTI_ERR_"):] if status.startswith("SENTI_ERR_") else status
    return "".join(part.capitalize() for part in stem.split("_") if part) + "Error"


# Every status code of the loaded library, by name (from senti_status_name; codes are small
# and stable, new ones are appended).
STATUS_CODES: dict[str, int] = {}
_CLASSES: dict[int, type[SentiError]] = {}
for _code in range(0, 256):
    _name = status_name(_code)
    if _name == _UNKNOWN:
        continue
    STATUS_CODES[_name] = _code
    if _code == 0:
        continue
    _cls = cast(
        "type[SentiError]",
        type(
            _class_name(_name),
            (SentiError,),
            {"__doc__": f"{_name} (code {_code}).", "__module__": __name__},
        ),
    )
    _CLASSES[_code] = _cls
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)
del _code, _name

if TYPE_CHECKING:
    # The subclasses above are made from the loaded library's codes, so a type checker cannot
    # see them: every other attribute of the module is taken for one of them.
    def __getattr__(name: str) -> type[SentiError]: ...


def error_class(status: Union[int, str]) -> type[SentiError]:
    """The :class:`SentiError` subclass for a status code (int) or name (``"SENTI_ERR_IO"``);
    :class:`SentiError` itself for a code the library does not define."""
    code = STATUS_CODES.get(status) if isinstance(status, str) else status
    return SentiError if code is None else _CLASSES.get(code, SentiError)


def code(name: str) -> int:
    """The numeric code of a status name (``"SENTI_ERR_INVALID_HANDLE"`` -> 3)."""
    return STATUS_CODES[name]


def take(status: int, err: ctypes.c_void_p) -> Optional[SentiError]:
    """Turns a call's status and error object (a ``c_void_p``) into an exception (or None on
    success), freeing the error object either way. The status is authoritative; the object
    supplies the message."""
    handle = err.value
    message = ""
    if handle:
        raw: Optional[bytes] = lib.senti_error_message(handle)
        message = raw.decode("utf-8", "replace") if raw else ""
        lib.senti_error_free(handle)
        err.value = None
    if status == 0:
        return None
    return SentiError(status, message)


def call(fn: Callable[..., int], *args: object) -> None:
    """Calls a fallible ``senti_*`` function with ``args`` plus an error out-parameter, and
    raises the matching :class:`SentiError` if it fails."""
    err = ctypes.c_void_p()
    status = fn(*args, ctypes.byref(err))
    exc = take(status, err)
    if exc is not None:
        raise exc
