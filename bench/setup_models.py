"""Register the bench models in Modelyard through its service layer, as an API client's upload would.

Run by bench/prepare.py with Modelyard's environment, on a freshly created database:
    python bench/setup_models.py <model.onnx> <model.skops> <input example .json>
Prints one line "BENCH_SETUP {json}" with a bearer token and what each version is served by.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

MODELS = (("bench-onnx", "model.onnx"), ("bench-sklearn", "model.skops"))


def _register(user: Any, team: Any, name: str, filename: str, data: bytes, example: Any) -> dict[str, Any]:
    from core.errors import ModelyardError
    from registry import services

    # Nothing protected: the bench points production itself and has no second person to approve it.
    model = services.model_create(actor=user, team=team, name=name, description="make bench", protected_aliases=[])
    # Validated here, not by a Celery worker: the bench runs none.
    try:
        version = services.version_publish_local(actor=user, model=model, filename=filename, data=data,
                                                 input_example=example)
    except ModelyardError as exc:
        raise SystemExit(exc.message) from None
    return {"version": version.version, "format": version.format, "serving_format": version.serving_format,
            "serving_note": version.serving_note}


def main(argv: list[str]) -> None:
    onnx_path, skops_path, example_path = (Path(arg) for arg in argv[1:4])
    # Run as a script from bench/, so the repository root (config, registry, serving) is not on the path.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from registry import services
    from registry.tokens import RefreshToken

    user = get_user_model().objects.create_user(username="bench", email="bench@example.com", password=None)
    # The creator becomes the team's owner, which includes the predictor role.
    team = services.team_create(actor=user, slug="bench", name="Benchmark")
    example = json.loads(example_path.read_text())
    files = {"bench-onnx": onnx_path, "bench-sklearn": skops_path}
    models = {name: _register(user, team, name, filename, files[name].read_bytes(), example)
              for name, filename in MODELS}
    token = str(RefreshToken.for_user(user).access_token)
    print("BENCH_SETUP " + json.dumps({"token": token, "models": models}), flush=True)


if __name__ == "__main__":
    main(sys.argv)
