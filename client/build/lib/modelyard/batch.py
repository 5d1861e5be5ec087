"""Batch jobs: a handle that refreshes, waits with a progress bar, and downloads results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from modelyard.errors import JobFailed, Timeout

if TYPE_CHECKING:
    from modelyard.client import Client

FINISHED = ("succeeded", "failed", "cancelled")


class BatchJob:
    """One job; ``data`` is the server's last answer about it (GET /api/v1/batch-jobs/{id})."""

    def __init__(self, client: Client, data: dict[str, Any]) -> None:
        self.client, self.data = client, data

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def done(self) -> bool:
        return self.status in FINISHED

    def refresh(self) -> BatchJob:
        self.data = self.client.session.json("GET", f"/api/v1/batch-jobs/{self.id}")
        return self

    def cancel(self) -> BatchJob:
        self.data = self.client.session.json("POST", f"/api/v1/batch-jobs/{self.id}/cancel")
        return self

    def wait(self, *, progress: bool | Console = True, timeout: float | None = None,
             poll: float = 0.5) -> BatchJob:
        """Until the job has finished; raises JobFailed unless it succeeded, Timeout past ``timeout`` seconds.

        ``progress``: True draws a bar on stderr, a rich Console draws it there, False draws nothing.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if progress is False:
            self._poll(deadline, poll, None)
        else:
            console = progress if isinstance(progress, Console) else Console(stderr=True)
            columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("rows  {task.fields[rate]}"), TimeElapsedColumn())
            with Progress(*columns, console=console, transient=False) as bar:
                task = bar.add_task(f"job {self.id[:8]}", total=self.data.get("rows_total") or None, rate="")
                self._poll(deadline, poll, lambda: self._draw(bar, task))
        if self.status != "succeeded":
            raise JobFailed(self.data)
        return self

    def _poll(self, deadline: float | None, poll: float, draw: Any) -> None:
        while True:
            if draw is not None:
                draw()
            if self.done:
                return
            if deadline is not None and time.monotonic() > deadline:
                raise Timeout(f"batch job {self.id} still {self.status} after the time allowed")
            time.sleep(poll)
            self.refresh()

    def _draw(self, bar: Progress, task: Any) -> None:
        data = self.data
        rate = data.get("rows_per_second")
        bar.update(task, total=data.get("rows_total") or None,
                   completed=(data.get("rows_done") or 0) + (data.get("rows_failed") or 0),
                   description=f"job {self.id[:8]} {data.get('status')}",
                   rate=f"{rate:,.0f}/s" if rate else "")

    def download(self, path: str | Path, what: str = "output") -> Path:
        """Write the job's ``output`` (or ``errors``) file to ``path``; returns the path."""
        if what not in ("output", "errors"):
            raise ValueError("what is 'output' or 'errors'")
        target = Path(path)
        response = self.client.session.request("GET", f"/api/v1/batch-jobs/{self.id}/{what}", stream=True)
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            partial.replace(target)
        finally:
            response.close()
            partial.unlink(missing_ok=True)
        return target

    def __repr__(self) -> str:
        return f"BatchJob(id={self.id!r}, status={self.status!r})"
