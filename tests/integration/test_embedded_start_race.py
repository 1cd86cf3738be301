"""Two commands starting the embedded servers at once (`make run`, and `bobbin status` typed in
another terminal while it starts) end up on the same servers: neither fails on the other's start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = "from core import runtime; print(runtime.database_url()); print(runtime.redis_url())"


def test_concurrent_starts_share_one_postgres_and_one_redis(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(BOBBIN_HOME=str(home), LOG_LEVEL="WARNING")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    try:
        outs = [p.communicate(timeout=180) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [err[-800:] for _, err in outs]
        urls = {tuple(ln for ln in out.splitlines() if ln.startswith(("postgresql", "redis://"))) for out, _ in outs}
        assert len(urls) == 1, urls  # one Postgres and one Redis for all three
    finally:
        subprocess.run([sys.executable, "-m", "bobbin.cli.main", "down"], env=env, capture_output=True, timeout=60)
