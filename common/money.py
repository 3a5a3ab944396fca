"""Money is a whole number of Iraqi dinars. One rounding rule everywhere: half up, to the dinar."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def to_iqd(amount: Decimal | int | float | str) -> int:
    """Whole dinars from any amount Zoho sends (12500, 12500.5, "12500.50")."""
    return int(Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: int) -> int:
    """`percent`% of a whole-dinar amount, rounded half up, in integer arithmetic only."""
    return (amount * percent + 50) // 100
