# SPDX-License-Identifier: MIT OR Apache-2.0
"""Explanations of a score (:meth:`senti.Model.explain`): every token of a text with its place
in the text and its signed contribution to one class's logit."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Tuple

__all__ = ["Explanation", "TokenContribution"]


def _f32(value: float) -> float:
    """A JSON number as the float32 the library wrote (Python reads JSON numbers as doubles),
    so that a score equals what :meth:`senti.Model.predict_scores` returns for it."""
    f: float = struct.unpack("f", struct.pack("f", value))[0]
    return f


@dataclass(frozen=True)
class TokenContribution:
    """One token of an :class:`Explanation`.

    ``start`` and ``end`` are **UTF-8 byte offsets** into the text (as the C API reports them):
    ``text.encode("utf-8")[start:end]``. For Python strings use ``char_start`` and ``char_end``
    (``text[char_start:char_end] == tok.text``) or simply ``text``; the two agree with the byte
    offsets only for ASCII text."""

    token: str  #: the token as the model saw it (lowercased)
    start: int  #: UTF-8 byte offset where the token starts in the explained text
    end: int  #: UTF-8 byte offset where it ends (exclusive)
    contribution: float  #: network + wide: how far it moved the class's logit (> 0: towards it)
    network: float  #: the recurrent network's part (0 for a token it did not read)
    wide: float  #: the wide n-gram path's part (0 without a wide path)
    read_by_network: bool  #: False past the model's max_len, where only the wide path credits it
    text: str  #: the token as it stands in the explained text (not lowercased)
    char_start: int  #: where it starts in the explained text, in characters (str index)
    char_end: int  #: where it ends, in characters (exclusive)

    def as_dict(self) -> dict[str, Any]:
        """The token as the library's JSON has it (``senti_explanation_json``)."""
        return {
            "token": self.token,
            "start": self.start,
            "end": self.end,
            "contribution": self.contribution,
            "network": self.network,
            "wide": self.wide,
            "read_by_network": self.read_by_network,
        }


@dataclass(frozen=True)
class Explanation:
    """Why a model gave a text its score (:meth:`senti.Model.explain`). A plain value: the
    library's explanation object is freed before ``explain`` returns.

    ``reference + sum(t.contribution for t in tokens) + unexplained == logit`` (up to float32
    rounding). For a two-label model the first label's logit is the second's, negated, and so
    are the contributions; with more labels ``logit`` is the class's own, before the softmax."""

    class_index: int  #: the explained class: its index in :attr:`senti.Model.labels`
    label: str  #: its name
    score: float  #: the model's probability for it, as :meth:`senti.Model.predict_scores` gives it
    logit: float  #: its logit
    reference: float  #: the logit of a text without words
    unexplained: float  #: what the contributions leave out (the integration's error)
    method: str  #: how the network's part was computed: ``"integrated_gradients"``; ``"wide_path"`` for a model without a network (``steps`` is then 0)
    steps: int  #: integration steps used
    tokens: Tuple[TokenContribution, ...]  #: in text order; empty for a text without words

    def as_dict(self) -> dict[str, Any]:
        """The explanation as the library's JSON has it (``senti_explanation_json``): keys
        ``class``, ``label``, ``score``, ``logit``, ``reference``, ``unexplained``, ``method``,
        ``steps``, ``tokens`` (each with ``token``, ``start``, ``end``, ``contribution``,
        ``network``, ``wide``, ``read_by_network``; byte offsets)."""
        return {
            "class": self.class_index,
            "label": self.label,
            "score": self.score,
            "logit": self.logit,
            "reference": self.reference,
            "unexplained": self.unexplained,
            "method": self.method,
            "steps": self.steps,
            "tokens": [t.as_dict() for t in self.tokens],
        }

    @classmethod
    def _from_json(cls, doc: dict[str, Any], data: bytes) -> Explanation:
        """Builds the value from the library's JSON ``doc`` for the UTF-8 bytes ``data`` that
        were explained."""
        chars = _CharOffsets(data)
        tokens = []
        for t in doc["tokens"]:
            start, end = t["start"], t["end"]
            char_start = chars(start)
            char_end = chars(end)
            tokens.append(
                TokenContribution(
                    token=t["token"],
                    start=start,
                    end=end,
                    contribution=_f32(t["contribution"]),
                    network=_f32(t["network"]),
                    wide=_f32(t["wide"]),
                    read_by_network=bool(t["read_by_network"]),
                    text=data[start:end].decode("utf-8"),
                    char_start=char_start,
                    char_end=char_end,
                )
            )
        return cls(
            class_index=doc["class"],
            label=doc["label"],
            score=_f32(doc["score"]),
            logit=_f32(doc["logit"]),
            reference=_f32(doc["reference"]),
            unexplained=_f32(doc["unexplained"]),
            method=doc["method"],
            steps=doc["steps"],
            tokens=tuple(tokens),
        )


class _CharOffsets:
    """Turns UTF-8 byte offsets of ``data`` into character offsets of its decoded text. The
    offsets come in text order (token spans), so one pass over the bytes serves them all; the
    library's offsets always fall between characters."""

    __slots__ = ("data", "byte", "char")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.byte = 0
        self.char = 0

    def __call__(self, offset: int) -> int:
        if offset < self.byte:  # spans may share a character (İ lowercases to two tokens)
            self.byte = self.char = 0
        self.char += len(self.data[self.byte : offset].decode("utf-8"))
        self.byte = offset
        return self.char
