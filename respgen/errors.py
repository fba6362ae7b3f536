"""The one error type users see. The CLI prints `error: <message>` and exits with `exit_code`."""

from __future__ import annotations

from pathlib import Path


class RespgenError(Exception):
    """A user-facing failure. exit_code 2 = bad input, 1 = runtime failure."""

    exit_code = 2

    def __init__(self, message: str, where: str | Path | None = None, exit_code: int | None = None):
        self.message = message
        self.where = str(where) if where is not None else None
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} ({self.where})" if self.where else self.message
