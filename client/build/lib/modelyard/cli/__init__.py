"""The ``modelyard`` command: a thin layer over :class:`modelyard.Client` (typer)."""

from __future__ import annotations

import typer

from modelyard.cli import commands, jobs
from modelyard.cli.state import ErrorsToExitCodes, State

app = typer.Typer(cls=ErrorsToExitCodes, no_args_is_help=True, add_completion=False,
                  help="Push, alias, promote and call models on a Modelyard server.")


@app.callback()
def main_options(
    ctx: typer.Context,
    url: str = typer.Option(None, "--url", envvar="MODELYARD_URL", help="Server URL (default: the one you signed "
                                                                         "in to)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON on stdout (errors: the server's envelope)"),
) -> None:
    ctx.obj = State(url=url, as_json=as_json)


commands.register(app)
app.add_typer(jobs.batch_app, name="batch")
app.add_typer(jobs.rollout_app, name="rollout")


def main() -> None:
    app()
