"""Request parameters as Binance reads them: query string plus form body, typed accessors with Binance errors.

Invariants: a parameter appears at most once across query and body (-1101 otherwise); empty values count as
missing (-1102); decimals match Binance's ``^([0-9]{1,20})(\\.[0-9]{1,20})?$`` (-1100 otherwise); integers
are plain digit strings; enum values must be one of the allowed names (-1116 order type, -1117 side,
-1115 time in force, else -1130).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar
from urllib.parse import parse_qsl

from exchange_sim.engine.types import ErrorCode
from exchange_sim.server import errors
from exchange_sim.server.errors import ApiError

E = TypeVar("E", bound=StrEnum)
_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_INT = re.compile(r"^-?[0-9]{1,19}$")
_ENUM_ERRORS: Mapping[str, tuple[int, str]] = {
    "type": (int(ErrorCode.INVALID_ORDER_TYPE), "Invalid orderType."),
    "side": (int(ErrorCode.INVALID_SIDE), "Invalid side."),
    "timeInForce": (int(ErrorCode.INVALID_TIF), "Invalid timeInForce."),
}


_PLAIN_FORM = re.compile(r"[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*(?:&[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*)*")


def parse_form(text: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` -> pairs; anything else (JSON, stray characters) is -1100. A form of unreserved characters
    only (no escapes, no ``+``) is split directly: the same pairs ``parse_qsl`` would give, without its cost."""
    if not text:
        return []
    if _PLAIN_FORM.fullmatch(text):
        return [item.partition("=")[::2] for item in text.split("&")]
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ApiError(errors.ILLEGAL_CHARS, "Illegal characters found in a parameter.") from None


class Params:
    """One request's parameters (query + body), read through typed accessors that raise ``ApiError``."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        for name, value in pairs:
            if name in self._values:
                raise ApiError(errors.TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected.")
            self._values[name] = value

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Params:
        """WebSocket API params (JSON values) in Binance's string form."""
        return cls((k, _text(v)) for k, v in values.items())

    def __contains__(self, name: str) -> bool:
        return bool(self._values.get(name))

    def raw(self) -> Mapping[str, str]:
        return self._values

    def opt_text(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if value else None

    def text(self, name: str) -> str:
        value = self._values.get(name)  # empty counts as missing (opt_text)
        if not value:
            raise errors.missing(name)
        return value

    def opt_integer(self, name: str) -> int | None:
        value = self._values.get(name)
        if not value:
            return None
        if not _INT.match(value):
            raise ApiError(errors.MANDATORY_PARAM, f"Parameter '{name}' was malformed: expected an integer.")
        return int(value)

    def integer(self, name: str) -> int:
        value = self.opt_integer(name)
        if value is None:
            raise errors.missing(name)
        return value

    def opt_decimal(self, name: str) -> Decimal | None:
        value = self._values.get(name)
        if not value:
            return None
        if not _DECIMAL.match(value):
            raise errors.illegal(name)
        return Decimal(value)

    def opt_enum(self, name: str, enum: type[E]) -> E | None:
        value = self._values.get(name)
        if not value:
            return None
        try:
            return enum(value.upper())
        except ValueError:
            code, msg = _ENUM_ERRORS.get(name, (int(ErrorCode.INVALID_PARAMETER),
                                                f"Invalid data sent for a parameter '{name}'."))
            raise ApiError(code, msg) from None

    def enum(self, name: str, enum: type[E]) -> E:
        value = self.opt_enum(name, enum)
        if value is None:
            raise errors.missing(name)
        return value


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
