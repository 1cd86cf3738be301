"""A task that kills its own worker process every time it runs (loaded by a test worker with -I)."""

import os
import signal

from worker import app


@app.task(name="tests.poison")
def poison() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
