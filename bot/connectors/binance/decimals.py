"""Wire decimals -> integers: Binance's decimal strings read as ticks, lots and atoms of 1e-8.

One job: read the numbers of venue messages exactly and cheaply. A decimal in Binance's plain form
(``^[0-9]{1,20}(\\.[0-9]{1,8})?$``) is read in integer arithmetic and remembered per text (``UNITS_MEMO``,
bounded: emptied when full), so the prices and sizes a depth stream repeats cost a dictionary lookup; any
other form goes through ``Decimal`` with the same result (``floor(value / step)`` for ticks and lots,
truncation for atoms). A malformed number is a ``WireError``.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ATOMS_PER_UNIT


class WireError(BotError):
    """A venue message the connector cannot translate."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INTERNAL, message, recoverable=False)


def dec(value: Any) -> Decimal:
    """A wire decimal (string or int) as ``Decimal``, normalised without exponent above the units."""
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        raise WireError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise WireError(f"not a finite number: {value!r}")
    return number.quantize(Decimal(1)) if number.as_tuple().exponent > 0 else number  # type: ignore[operator]


def num(value: Any) -> Decimal:
    """A wire decimal as ``Decimal`` as it is (not normalised): for values only divided into ticks, lots or
    atoms, where ``dec``'s normalisation is wasted work on every price level of every depth update."""
    try:
        number = Decimal(value) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise WireError(f"not a finite number: {value!r}")
    return number


E8 = 100_000_000


@functools.lru_cache(maxsize=256)
def e8(step: Decimal) -> int:
    """``step`` in units of 1e-8 when that is a whole number (every real tick and lot size), else 0."""
    scaled = step * E8
    return int(scaled) if scaled > 0 and scaled == scaled.to_integral_value() else 0


def steps(value: Any, step: Decimal) -> int:
    """``floor(value / step)``: a wire decimal in ticks or lots (``SymbolInfo.to_ticks``/``to_lots``).

    When ``step`` is a whole number of 1e-8 the value is read in integer arithmetic (``units_of``), else through
    ``Decimal`` (same result)."""
    unit = e8(step)
    if not unit:
        return int(num(value) // step)
    units = UNITS_MEMO.get(value) if type(value) is str else None
    return (units if units is not None else units_of(value, step)) // unit


def plain(value: Decimal) -> str:
    """``value`` in plain notation for the wire."""
    return format(value, "f")


def atoms(value: Any) -> int:
    """A wire amount in atoms (1e-8), truncated: a plain decimal in integer arithmetic (exact), else ``Decimal``."""
    units = (UNITS_MEMO.get(value) or plain_units(value)) if type(value) is str else None
    return units if units is not None else int(num(value) * ATOMS_PER_UNIT)


def units_of(value: Any, step: Decimal) -> int:
    """A wire decimal in units of 1e-8, floored (for a step that is a whole number of 1e-8: see ``steps``).

    The plain form Binance sends is read in integer arithmetic (``plain_units``); anything else goes through
    ``Decimal``."""
    units = plain_units(value) if type(value) is str else None
    return units if units is not None else int(num(value) // step) * e8(step)


_SCALE = tuple(10 ** (8 - n) for n in range(9))  # a fraction of n digits, in units of 1e-8
UNITS_MEMO: dict[str, int] = {}  # plain text -> its units (prices, sizes repeat); callers only read it
UNITS_MEMO_MAX = 1 << 16  # emptied when full (a bound, not an eviction policy: the value never changes)


def plain_units(value: str) -> int | None:
    """``value`` in units of 1e-8 when it has Binance's plain form (``^[0-9]{1,20}(\\.[0-9]{1,8})?$``, ASCII
    digits only), else ``None``: split at the point and read with ``int``. A pure function of the text,
    remembered per text (``UNITS_MEMO``), so a price seen before costs one dictionary lookup."""
    units = UNITS_MEMO.get(value)
    if units is not None:
        return units
    whole, point, fraction = value.partition(".")
    if not (whole.isdigit() and whole.isascii() and len(whole) <= 20
            and (not point or (fraction.isdigit() and fraction.isascii() and len(fraction) <= 8))):
        return None
    units = int(whole) * E8 + (int(fraction) * _SCALE[len(fraction)] if point else 0)
    if len(UNITS_MEMO) >= UNITS_MEMO_MAX:
        UNITS_MEMO.clear()
    UNITS_MEMO[value] = units
    return units
