"""Loop Returns connector: contract, client and mapper.

Not in the partner registry yet: a Loop site needs a "returns" capability the registry does not
have, which the returns pipeline brings (issue 16). Until then this package is used directly.
"""

from __future__ import annotations

from connectors.loop import contract
from connectors.loop.client import LoopActionRefused, LoopClient, ReturnsPage
from connectors.loop.mapper import LoopRefund, LoopReturn, LoopReturnLine, to_loop_return

__all__ = [
    "LoopActionRefused",
    "LoopClient",
    "LoopRefund",
    "LoopReturn",
    "LoopReturnLine",
    "ReturnsPage",
    "contract",
    "to_loop_return",
]
