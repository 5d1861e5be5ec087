"""``Client``: the registry, predictions, batch jobs and rollouts of one Modelyard server."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

from modelyard.batch import BatchJob
from modelyard.errors import UsageError
from modelyard.predictions import ModelRef, Prediction, inputs_body, is_dataframe
from modelyard.registry import RegistryMixin
from modelyard.session import Session, TokensCallback, TokensSource

# How long a model's column names are reused before they are asked for again (DataFrame inputs).
COLUMNS_TTL_SECONDS = 60.0


class Client(RegistryMixin):
    """A signed-in connection to a Modelyard server.

    ``Client(url, token=...)`` uses a token as given (a service token, or ``MODELYARD_TOKEN`` from the
    environment when neither token nor username is passed); ``Client(url, username=..., password=...)``
    signs in and refreshes its access token transparently. ``url`` defaults to ``MODELYARD_URL``.
    """

    def __init__(self, url: str | None = None, *, token: str | None = None, username: str | None = None,
                 password: str | None = None, refresh_token: str | None = None, timeout: float = 60.0,
                 on_tokens: TokensCallback | None = None, stored_tokens: TokensSource | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        url = url or os.environ.get("MODELYARD_URL")
        if not url:
            raise UsageError("Which server? Pass url= or set MODELYARD_URL")
        if token is None and username is None and refresh_token is None:
            token = os.environ.get("MODELYARD_TOKEN") or None
        self.session = Session(url, token=token, refresh_token=refresh_token, username=username,
                               password=password, timeout=timeout, on_tokens=on_tokens,
                               stored_tokens=stored_tokens, transport=transport)
        if username is not None and password is not None and token is None and refresh_token is None:
            self.session.login(username, password)
        self._columns: dict[tuple[str, str], tuple[float, list[str] | None]] = {}

    @property
    def url(self) -> str:
        return self.session.url

    def login(self, username: str, password: str) -> None:
        self.session.login(username, password)

    def logout(self) -> None:
        self.session.revoke()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- predictions ---------------------------------------------------------------------------

    def predict(self, uri: str, rows: Any, *, routing_key: str | None = None) -> Prediction:
        """Predict with ``name@alias``, ``name/3`` or ``models:/name@alias``.

        ``rows``: a list of rows, a 2-D numpy array, a pandas DataFrame (matched to the model's column
        names) or a dict of named columns. Outputs are numpy arrays when numpy is installed;
        ``.to_pandas()`` gives a DataFrame with the input's index.
        """
        ref = ModelRef.parse(uri)
        columns = self._model_columns(ref) if is_dataframe(rows) else None
        headers = {"Modelyard-Routing-Key": routing_key} if routing_key else None
        body = self.session.json("POST", ref.predict_path, json=inputs_body(rows, columns), headers=headers)
        return Prediction(body, index=rows.index if is_dataframe(rows) else None)

    def _model_columns(self, ref: ModelRef) -> list[str] | None:
        key = (ref.name, str(ref))
        cached = self._columns.get(key)
        if cached and time.monotonic() - cached[0] < COLUMNS_TTL_SECONDS:
            return cached[1]
        number = ref.version or self.aliases(ref.name).get(str(ref.alias))
        columns = None
        if number is not None:
            columns = ((self.version(ref.name, number).get("signature") or {}).get("inputs") or {}).get("columns")
        self._columns[key] = (time.monotonic(), columns)
        return columns

    # --- batch jobs ----------------------------------------------------------------------------

    def batch(self, uri: str, input_file: str | Path, *, id_column: str | None = None,
              output_format: str | None = None, input_format: str | None = None,
              max_error_rate: float | None = None) -> BatchJob:
        """Submit a batch job scoring a CSV, Parquet or JSON Lines file; ``.wait()`` on the answer."""
        ref = ModelRef.parse(uri)
        path = Path(input_file)
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        fields = {"model": ref.name, "alias": ref.alias, "version": ref.version, "id_column": id_column,
                  "output_format": output_format, "input_format": input_format, "max_error_rate": max_error_rate}
        data = {k: str(v) for k, v in fields.items() if v is not None}
        with path.open("rb") as handle:
            job = self.session.json("POST", "/api/v1/batch-jobs", data=data,
                                    files={"file": (path.name, handle, "application/octet-stream")})
        return BatchJob(self, job)

    def batch_job(self, job_id: str) -> BatchJob:
        return BatchJob(self, self.session.json("GET", f"/api/v1/batch-jobs/{job_id}"))

    def batch_jobs(self, **filters: Any) -> list[BatchJob]:
        return [BatchJob(self, job) for job in self._pages("/api/v1/batch-jobs", filters)]

    # --- rollouts ------------------------------------------------------------------------------

    def start_rollout(self, name: str, alias: str, version: int, strategy: str = "canary", *,
                      steps: list[int] | None = None, step_seconds: int | None = None,
                      guards: dict[str, Any] | None = None, allow_breaking: bool = False,
                      reason: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"alias": alias, "version": version, "strategy": strategy,
                                "allow_breaking": allow_breaking, "reason": reason}
        body.update({k: v for k, v in {"steps": steps, "step_seconds": step_seconds, "guards": guards}.items()
                     if v is not None})
        return self.session.json("POST", f"/api/v1/models/{name}/rollouts", json=body)

    def rollout(self, name: str, rollout_id: int) -> dict[str, Any]:
        return self.session.json("GET", f"/api/v1/models/{name}/rollouts/{rollout_id}")

    def rollouts(self, name: str, **filters: Any) -> list[dict[str, Any]]:
        return list(self._pages(f"/api/v1/models/{name}/rollouts", filters))

    def rollout_action(self, name: str, rollout_id: int, action: str, reason: str = "") -> dict[str, Any]:
        """``pause``, ``resume``, ``promote``, ``rollback`` or ``abort``."""
        if action not in ("pause", "resume", "promote", "rollback", "abort"):
            raise UsageError(f"Unknown rollout action {action!r}")
        return self.session.json("POST", f"/api/v1/models/{name}/rollouts/{rollout_id}/{action}",
                                 json={"reason": reason})

    def abort_rollout(self, name: str, rollout_id: int, reason: str = "") -> dict[str, Any]:
        return self.rollout_action(name, rollout_id, "abort", reason)
