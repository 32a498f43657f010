"""A marker for "not given" where None is a value of its own (no cap, the programme's default).

An enum member rather than a bare object(), so that `x is UNSET` narrows `int | None | Unset` to `int | None`.
"""

from __future__ import annotations

from enum import Enum
from typing import Final


class Unset(Enum):
    UNSET = "unset"


UNSET: Final = Unset.UNSET
