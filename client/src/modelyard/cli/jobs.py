"""``modelyard batch submit|status|download`` and ``modelyard rollout start|status|abort``."""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.batch import BatchJob
from modelyard.cli.state import State, state
from modelyard.errors import UsageError

batch_app = typer.Typer(no_args_is_help=True, help="Batch prediction jobs.")
rollout_app = typer.Typer(no_args_is_help=True, help="Canary, blue-green and shadow rollouts.")


def _show_job(st: State, job: BatchJob) -> None:
    d = job.data
    total = d.get("rows_total")
    human = (f"job {job.id}: {job.status}  {d.get('rows_done', 0):,} of {f'{total:,}' if total else '?'} rows"
             + (f", {d['rows_failed']:,} refused" if d.get("rows_failed") else "")
             + (f" - {d['status_message']}" if d.get("status_message") else ""))
    st.emit(d, human)


def _wait(st: State, job: BatchJob, timeout: float | None) -> None:
    job.wait(progress=False if st.as_json else st.err, timeout=timeout)


@batch_app.command("submit")
def batch_submit(ctx: typer.Context, uri: str = typer.Argument(..., help="name@alias or name/3"),
                 input_file: Path = typer.Argument(..., metavar="INPUT", help="CSV, Parquet or JSON Lines"),
                 id_column: str = typer.Option(None, "--id-column"),
                 output_format: str = typer.Option(None, "--output-format", help="parquet (default), csv, jsonl"),
                 max_error_rate: float = typer.Option(None, "--max-error-rate"),
                 wait: bool = typer.Option(False, "--wait", help="Wait with a progress bar until it has finished"),
                 timeout: float = typer.Option(None, "--timeout")) -> None:
    """Score a file with a model version; --wait shows a progress bar (exit 7 if the job fails)."""
    st = state(ctx)
    job = st.client().batch(uri, input_file, id_column=id_column, output_format=output_format,
                            max_error_rate=max_error_rate)
    if wait:
        try:
            _wait(st, job, timeout)
        finally:
            _show_job(st, job)
    else:
        _show_job(st, job)


@batch_app.command("status")
def batch_status(ctx: typer.Context, job_id: str = typer.Argument(...),
                 wait: bool = typer.Option(False, "--wait", help="Wait with a progress bar until it has finished"),
                 timeout: float = typer.Option(None, "--timeout")) -> None:
    """A job's progress (exit 7 for a failed or cancelled job)."""
    st = state(ctx)
    job = st.client().batch_job(job_id)
    try:
        if wait:
            _wait(st, job, timeout)
    finally:
        _show_job(st, job)
    if job.status in ("failed", "cancelled"):
        raise typer.Exit(7)


@batch_app.command("download")
def batch_download(ctx: typer.Context, job_id: str = typer.Argument(...),
                   path: Path = typer.Argument(..., help="Where to write the file"),
                   errors: bool = typer.Option(False, "--errors", help="The refused rows instead of the output")
                   ) -> None:
    """Download a finished job's output (or its errors file)."""
    st = state(ctx)
    written = st.client().batch_job(job_id).download(path, "errors" if errors else "output")
    st.emit({"path": str(written), "size_bytes": written.stat().st_size},
            f"Wrote {written} ({written.stat().st_size:,} bytes)")


def _show_rollout(st: State, rollout: dict) -> None:
    human = (f"rollout {rollout['id']} of {rollout['model']}@{rollout['alias']}: {rollout.get('status')} "
             f"({rollout.get('strategy')}, version {rollout.get('stable')} -> {rollout.get('candidate')}, "
             f"candidate weight {rollout.get('weight', 0)}%)")
    for event in (rollout.get("events") or [])[-5:]:
        human += f"\n  {event.get('at', '')[:19]} {event.get('kind', '')} {event.get('message', '')}"
    st.emit(rollout, human)


def _steps(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.split(",")]
    except ValueError:
        raise UsageError("--steps is a comma-separated list of percentages, e.g. 10,50,100") from None


@rollout_app.command("start")
def rollout_start(ctx: typer.Context, model: str = typer.Argument(...), alias: str = typer.Argument(...),
                  version: int = typer.Argument(...),
                  strategy: str = typer.Option("canary", "--strategy", help="canary, blue_green or shadow"),
                  steps: str = typer.Option(None, "--steps",
                                            help="Candidate weights in percent, ending at 100, e.g. 10,50,100"),
                  step_seconds: int = typer.Option(None, "--step-seconds"),
                  reason: str = typer.Option("", "--reason", "-r")) -> None:
    """Roll a version out behind an alias; beat moves it step by step while the guards hold."""
    st = state(ctx)
    rollout = st.client().start_rollout(model, alias, version, strategy, steps=_steps(steps),
                                        step_seconds=step_seconds, reason=reason)
    _show_rollout(st, rollout)


@rollout_app.command("status")
def rollout_status(ctx: typer.Context, model: str = typer.Argument(...), rollout_id: int = typer.Argument(...)
                   ) -> None:
    """A rollout's state and its latest events."""
    st = state(ctx)
    _show_rollout(st, st.client().rollout(model, rollout_id))


@rollout_app.command("abort")
def rollout_abort(ctx: typer.Context, model: str = typer.Argument(...), rollout_id: int = typer.Argument(...),
                  reason: str = typer.Option("", "--reason", "-r")) -> None:
    """Stop a rollout; the alias keeps serving the stable version."""
    st = state(ctx)
    _show_rollout(st, st.client().abort_rollout(model, rollout_id, reason))
