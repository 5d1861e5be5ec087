"""Models, versions, aliases and promotions: the registry half of the client."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from modelyard.artifacts import Artifact, artifact_from
from modelyard.errors import ApiError, ConnectionFailed, ModelyardError, NotFound, Timeout, UsageError, VersionFailed

if TYPE_CHECKING:
    from modelyard.session import Session

SETTLED = ("ready", "failed", "archived", "deleted")
UPLOAD_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 1.0


class Version(dict):
    """A version as the server describes it, plus ``wait_until_ready()``."""

    def __init__(self, client: RegistryMixin, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._client = client

    @property
    def name(self) -> str:
        return str(self["model"])

    @property
    def number(self) -> int:
        return int(self["version"])

    def wait_until_ready(self, timeout: float = 600.0, poll: float = 0.5) -> Version:
        ready = self._client.wait_until_ready(self.name, self.number, timeout=timeout, poll=poll)
        self.clear()
        self.update(ready)
        return self


class RegistryMixin:
    session: Session

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following its ``next`` links."""
        page = self.session.json("GET", path, params={k: v for k, v in (params or {}).items() if v is not None})
        while True:
            yield from page.get("results", [])
            if not page.get("next"):
                return
            page = self.session.json("GET", page["next"])

    # --- teams and models ----------------------------------------------------------------------

    def teams(self) -> list[dict[str, Any]]:
        return list(self._pages("/api/v1/teams"))

    def models(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self._pages("/api/v1/models", filters))

    def model(self, name: str) -> dict[str, Any]:
        return self.session.json("GET", f"/api/v1/models/{name}")

    def create_model(self, name: str, team: str, description: str = "", tags: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        body = {"name": name, "team": team, "description": description, "tags": tags or {}}
        return self.session.json("POST", "/api/v1/models", json=body)

    def delete_model(self, name: str) -> None:
        """Only a model that never had a version (the server answers 409 for any other)."""
        self.session.request("DELETE", f"/api/v1/models/{name}")

    # --- a team's service tokens (owners; the secret is in the create answer only) ------------------

    def service_tokens(self, team: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/api/v1/teams/{team}/tokens"))

    def create_service_token(self, team: str, name: str, role: str, expires_at: str | None = None
                             ) -> dict[str, Any]:
        """A token for automation; ``["token"]`` is the secret to put in MODELYARD_TOKEN."""
        body = {"name": name, "role": role, "expires_at": expires_at}
        return self.session.json("POST", f"/api/v1/teams/{team}/tokens", json=body)

    def revoke_service_token(self, team: str, token_id: int) -> None:
        self.session.request("DELETE", f"/api/v1/teams/{team}/tokens/{token_id}")

    # --- versions ------------------------------------------------------------------------------

    def versions(self, name: str, status: str | None = None) -> list[Version]:
        return [Version(self, v) for v in self._pages(f"/api/v1/models/{name}/versions", {"status": status})]

    def version(self, name: str, number: int) -> Version:
        return Version(self, self.session.json("GET", f"/api/v1/models/{name}/versions/{number}"))

    def push(self, name: str, model: Any, *, sample: Any = None, team: str | None = None,
             metrics: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
             tags: dict[str, Any] | None = None, lineage: dict[str, Any] | None = None, description: str = "",
             wait: bool = False, timeout: float = 600.0,
             progress: Callable[[int, int], None] | None = None) -> Version:
        """Upload a new version of ``name``: a file, an MLflow directory, bytes, an estimator or a ModelProto.

        The model is created in ``team`` when it does not exist yet. ``sample`` (rows, array, DataFrame)
        gives the signature and input example. ``progress(sent, total)`` is called as the upload goes.
        With ``wait`` the call returns once the version is ready and raises VersionFailed if it failed.
        """
        artifact = artifact_from(model, sample)  # every local check before anything is sent
        created = self._ensure_model(name, team)
        try:
            version = self._upload(name, artifact, metrics=metrics, params=params, tags=tags, lineage=lineage,
                                   description=description, progress=progress)
        except ApiError:
            if created:  # the server refused the file: the model this push made goes too, nothing is left
                self._forget_model(name)
            raise
        return version.wait_until_ready(timeout=timeout) if wait else version

    def _ensure_model(self, name: str, team: str | None) -> bool:
        """True when this call created the model."""
        try:
            self.model(name)
            return False
        except NotFound:
            if team is None:
                raise NotFound(404, "not_found", f"There is no model {name!r} you can see; give a team to "
                                                 "create it (--team)", None) from None
            self.create_model(name, team)
            return True

    def _forget_model(self, name: str) -> None:
        try:
            self.delete_model(name)
        except ModelyardError:  # best effort: the upload's own error is what the caller needs to see
            pass

    def _upload(self, name: str, artifact: Artifact, *, progress: Callable[[int, int], None] | None,
                **meta: Any) -> Version:
        fields: dict[str, str] = {"description": meta.pop("description") or ""}
        merged = {"signature": artifact.signature or None, "input_example": artifact.input_example,
                  "lineage": {**artifact.lineage, **(meta.pop("lineage") or {})} or None,
                  "tags": {**artifact.tags, **(meta.pop("tags") or {})} or None, **meta}
        fields.update({k: json.dumps(v) for k, v in merged.items() if v is not None})
        total, sent = artifact.size, 0

        def report(n: int) -> None:
            nonlocal sent
            sent = min(total, sent + n)
            if progress is not None:
                progress(sent, total)

        # One key for this push: a resend after a dropped connection answers the first upload's version
        # (200 instead of 201), so a push never makes two versions, whether or not the first one arrived.
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(UPLOAD_ATTEMPTS):
            sent = 0
            try:
                with artifact.open() as handle:
                    files = {"file": (artifact.filename, handle, "application/octet-stream")}
                    data = self.session.json("POST", f"/api/v1/models/{name}/versions", data=fields, files=files,
                                             headers=headers, progress=report)
                return Version(self, data)
            except ConnectionFailed:
                if attempt + 1 == UPLOAD_ATTEMPTS:
                    raise
                time.sleep(RETRY_PAUSE_SECONDS * (attempt + 1))
        raise AssertionError("unreachable")

    def wait_until_ready(self, name: str, number: int, timeout: float = 600.0, poll: float = 0.5) -> Version:
        """Until the worker has validated the version; VersionFailed carries the server's reason."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.version(name, number)
            if version["status"] == "ready":
                return version
            if version["status"] in SETTLED:
                raise VersionFailed(name, number, version.get("status_message") or version["status"])
            if time.monotonic() > deadline:
                raise Timeout(f"{name} version {number} still {version['status']} after {timeout:.0f}s")
            time.sleep(poll)

    def archive(self, name: str, number: int) -> Version:
        return Version(self, self.session.json("POST", f"/api/v1/models/{name}/versions/{number}/archive"))

    # --- aliases and promotions ------------------------------------------------------------------

    def aliases(self, name: str) -> dict[str, int]:
        return {a["name"]: a["version"] for a in self._pages(f"/api/v1/models/{name}/aliases")}

    def set_alias(self, name: str, alias: str, version: int) -> dict[str, Any]:
        """Point ``alias`` at ``version``; a protected alias raises ApprovalRequired (use promote)."""
        return self.session.json("PUT", f"/api/v1/models/{name}/aliases/{alias}", json={"version": version})

    def delete_alias(self, name: str, alias: str) -> None:
        self.session.request("DELETE", f"/api/v1/models/{name}/aliases/{alias}")

    def promote(self, name: str, alias: str, version: int, reason: str, purpose: str = "move") -> dict[str, Any]:
        """Ask for ``alias`` to move to ``version``; someone else approves."""
        if not reason:
            raise UsageError("A promotion needs a reason")
        body = {"alias": alias, "version": version, "reason": reason, "purpose": purpose}
        return self.session.json("POST", f"/api/v1/models/{name}/promotions", json=body)

    def promotions(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self._pages("/api/v1/promotions", filters))

    def promotion(self, promotion_id: int) -> dict[str, Any]:
        return self.session.json("GET", f"/api/v1/promotions/{promotion_id}")

    def approve(self, promotion_id: int, reason: str = "") -> dict[str, Any]:
        return self.session.json("POST", f"/api/v1/promotions/{promotion_id}/approve", json={"reason": reason})

    def reject(self, promotion_id: int, reason: str) -> dict[str, Any]:
        return self.session.json("POST", f"/api/v1/promotions/{promotion_id}/reject", json={"reason": reason})
