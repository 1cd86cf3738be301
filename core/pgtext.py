"""What Postgres text and JSONB can hold: one place for the rule, used wherever a partner's text is
written (staging, customers made from orders, events, returns)."""

from __future__ import annotations

import math
import re
from typing import Any

# What Postgres text and JSONB cannot hold: NUL, and lone UTF-16 surrogates (JSON's "\ud800" escape
# decodes to one; it cannot even be encoded as UTF-8 to be sent).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def pg_safe(value: Any) -> Any:
    """Postgres text and JSONB cannot hold NUL characters, lone surrogates, NaN or infinities:
    replace them (U+FFFD for characters, None for numbers), keep the rest."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value) if UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {pg_safe(str(k)): pg_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [pg_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # NaN and ±Infinity (1e309) are not JSON
        return None
    return value
