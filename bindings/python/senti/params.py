# SPDX-License-Identifier: MIT OR Apache-2.0
"""Training parameters: a ``senti_params`` object, set field by field with the typed setters."""

from __future__ import annotations

import ctypes
import json
import numbers
import operator
import weakref
from typing import (
    Any,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Optional,
    SupportsFloat,
    SupportsIndex,
    TypeVar,
    Union,
    cast,
)

from . import _util, errors
from ._lib import lib

__all__ = ["Params"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# A value for Params.set: None resets the field; see Params for the setter each type picks.
ParamValue = Union[None, bool, int, float, SupportsIndex, _util.StrOrBytesPath]
# Fields for Params(...) and Params.update: a mapping, or (name, value) pairs.
ParamFields = Union[Mapping[str, ParamValue], Iterable[tuple[str, ParamValue]]]

_ParamsT = TypeVar("_ParamsT", bound="Params")


def _is_bool(value: object) -> bool:
    # numpy's bool is named bool_ before numpy 2 and bool from it on.
    kind = type(value)
    return isinstance(value, bool) or (kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"))


class Params(_util.Owned):
    """Training parameters (the TRAINING PARAMETERS block of senti.h / the README's table).

    Every field holds the library's default until set. Values are checked by the library at
    once: an unknown field, a wrong type or an out-of-range value raises
    :class:`senti.ConfigError` (a :class:`senti.SentiError`) with the library's message, which
    names the field, and leaves the object unchanged.

        p = senti.Params(epochs=4, cell="gru", learning_rate=0.01, bidirectional=False)
        p = senti.Params({"epochs": 4, "hidden_size": 16})
        p["seed"] = 7            # same as p.set("seed", 7)
        p.set_float("dropout", 0.2)
        p.reset("train_limit")   # back to the default (absent: the library decides)
        print(p.to_json())       # every field, as senti_train and Params.from_json take it

    ``set`` picks the setter from the value's type: bool -> senti_params_set_bool, int ->
    _set_int, float -> _set_float, str / os.PathLike -> _set_string, None -> senti_params_reset.
    Any number of threads may set and read one object at once.
    """

    __slots__ = ("_h", "_finalizer", "__weakref__")

    def __init__(self, fields: Optional[ParamFields] = None, /, **kwargs: ParamValue) -> None:
        h = ctypes.c_void_p()
        errors.call(lib.senti_params_new, ctypes.byref(h))
        self._adopt(h.value)
        self.update(fields, **kwargs)

    def _adopt(self, handle: Optional[int]) -> None:
        self._h = handle
        self._finalizer = weakref.finalize(self, lib.senti_params_free, handle)

    @classmethod
    def from_json(cls: type[_ParamsT], text: str) -> _ParamsT:
        """Parameters from the JSON object ``senti_train`` takes: the fields it names, defaults
        for the rest (``senti_params_from_json``)."""
        h = ctypes.c_void_p()
        errors.call(
            lib.senti_params_from_json, _util.cstr(text, "parameters JSON"), ctypes.byref(h)
        )
        p = cls.__new__(cls)
        p._adopt(h.value)
        return p

    def copy(self: _ParamsT) -> _ParamsT:
        """An independent object with the same fields."""
        return type(self).from_json(self.to_json())

    @property
    def _handle(self) -> Optional[int]:
        if not self._finalizer.alive:
            raise errors.SentiError(errors.code("SENTI_ERR_INVALID_HANDLE"), "the params object is closed")
        return self._h

    # --- setters -------------------------------------------------------------------------

    def set_int(self, field: str, value: SupportsIndex) -> None:
        if _is_bool(value):
            raise TypeError(f"senti: set_int({field!r}) takes an int, not a bool")
        try:
            value = operator.index(value)  # int, numpy integers
        except TypeError:
            raise TypeError(f"senti: set_int({field!r}) takes an int, not {type(value).__name__}") from None
        if not _INT64_MIN <= value <= _INT64_MAX:
            # Only JSON carries integers beyond int64 (seeds up to 2^64 - 1); the library still
            # checks the value.
            self._set_via_json(field, value)
            return
        errors.call(lib.senti_params_set_int, self._handle, _util.cstr(field, "field"), value)

    def set_float(self, field: str, value: SupportsFloat) -> None:
        errors.call(lib.senti_params_set_float, self._handle, _util.cstr(field, "field"), float(value))

    def set_bool(self, field: str, value: bool) -> None:
        if not _is_bool(value):
            raise TypeError(f"senti: {field} takes a bool, not {type(value).__name__}")
        errors.call(lib.senti_params_set_bool, self._handle, _util.cstr(field, "field"), bool(value))

    def set_string(self, field: str, value: _util.StrOrBytesPath) -> None:
        if not isinstance(value, str):
            value = _util.cpath(value, field)  # os.PathLike for data_path
        else:
            value = _util.cstr(value, field)
        errors.call(lib.senti_params_set_string, self._handle, _util.cstr(field, "field"), value)

    def reset(self, field: str) -> None:
        """Sets ``field`` back to its default (for optional fields: absent)."""
        errors.call(lib.senti_params_reset, self._handle, _util.cstr(field, "field"))

    def set(self, field: str, value: ParamValue) -> None:
        """Sets ``field`` with the setter that matches the type of ``value`` (see the class)."""
        # The casts state what the tests before them found, which only isinstance tells mypy.
        if value is None:
            self.reset(field)
        elif _is_bool(value):
            self.set_bool(field, cast(bool, value))
        elif isinstance(value, float):
            self.set_float(field, value)
        elif hasattr(type(value), "__index__"):
            self.set_int(field, cast(SupportsIndex, value))
        elif isinstance(value, numbers.Real):
            self.set_float(field, value)
        else:
            self.set_string(field, cast(_util.StrOrBytesPath, value))

    def update(
        self: _ParamsT, fields: Optional[ParamFields] = None, /, **kwargs: ParamValue
    ) -> _ParamsT:
        """Sets every field of a mapping (or of (name, value) pairs) and of the keywords."""
        if fields is not None:
            items = fields.items() if hasattr(fields, "items") else fields
            for name, value in items:
                self.set(name, value)
        for name, value in kwargs.items():
            self.set(name, value)
        return self

    def _set_via_json(self, field: str, value: int) -> None:
        fields = self.to_dict()
        fields[field] = value
        fresh = type(self).from_json(json.dumps(fields))  # the library checks the value
        # Take over fresh's library object (its finalizer no longer frees it), then free ours.
        fresh._finalizer.detach()
        old = self._finalizer
        self._adopt(fresh._h)
        old()

    __setitem__ = set

    def __getitem__(self, field: str) -> Any:
        fields = self.to_dict()
        if field not in fields:
            raise KeyError(field)
        return fields[field]

    def __delitem__(self, field: str) -> None:
        self.reset(field)

    # --- reading -------------------------------------------------------------------------

    def to_json(self) -> str:
        """Every field as the JSON object ``senti_train`` and :meth:`from_json` take (absent
        optional fields as ``null``): a run can be logged and repeated."""
        return _util.read_buffer(lib.senti_params_to_json, self._handle)

    def to_dict(self) -> dict[str, Any]:
        """:meth:`to_json`, parsed."""
        fields: dict[str, Any] = json.loads(self.to_json())
        return fields

    def keys(self) -> KeysView[str]:
        return self.to_dict().keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Params):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    # None is how Python marks a class unhashable, but typeshed declares object.__hash__ a
    # method; typeshed's own list and dict silence the same error.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not self._finalizer.alive:
            return "<senti.Params closed>"
        return f"senti.Params({self.to_dict()!r})"


def coerce(
    params: Union[None, Params, str, ParamFields], overrides: Mapping[str, ParamValue]
) -> tuple[Params, bool]:
    """A Params for a training call: ``params`` (None, a Params or a mapping) with ``overrides``
    (keyword arguments) applied. A Params given by the caller is never changed. Returns
    (params, owned): owned is True when the object was made here."""
    if params is None:
        return Params(**overrides), True
    if isinstance(params, Params):
        if not overrides:
            return params, False
        return params.copy().update(overrides), True
    if isinstance(params, str):
        return Params.from_json(params).update(overrides), True
    return Params(params, **overrides), True
