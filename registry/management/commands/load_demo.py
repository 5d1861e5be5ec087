"""Load the demo: an admin, a team and two served models with a production alias each."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import ModelyardError
from registry import services
from registry.demo.artifacts import iris_onnx, recommender_skops
from registry.models import RegisteredModel, Team

BASE = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Create the demo admin, team and models (development only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo creates an admin account; it never runs with MODELYARD_ENV=production")
        password = self._admin(username)
        admin = get_user_model().objects.get(username=username)
        team = Team.objects.filter(slug="demo").first() or services.team_create(actor=admin, slug="demo",
                                                                                name="Demo team")
        self._model(admin, team, "iris", "Iris species classifier (ONNX)", "iris.onnx", iris_onnx)
        self._model(admin, team, "recommender", "Nearest-neighbour item recommender (skops)", "recommender.skops",
                    recommender_skops)
        self._print_help(username, password)

    def _admin(self, username: str) -> str | None:
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return None
        password = secrets.token_urlsafe(12)
        users.create_superuser(username=username, email=f"{username}@example.com", password=password)
        return password

    def _model(self, admin: Any, team: Team, name: str, description: str, filename: str, build: Any) -> None:
        if RegisteredModel.objects.filter(name=name).exists():
            return
        # Created with nothing protected so that the loader can publish v1 to production itself, then
        # production is protected as on every new model: from here on it moves by approved promotion only.
        model = services.model_create(actor=admin, team=team, name=name, description=description,
                                      protected_aliases=[])
        data, example = build()
        # Validated here, so the printed commands work at once.
        try:
            version = services.version_publish_local(actor=admin, model=model, filename=filename, data=data,
                                                     input_example=example)
        except ModelyardError as exc:
            raise CommandError(f"Demo model failed: {exc.message}") from None
        services.model_update(actor=admin, model=model, changes={"protected_aliases": ["production"]})
        self.stdout.write(f"Loaded demo model {name} v{version.version} -> production (protected)")

    def _print_help(self, username: str, password: str | None) -> None:
        shown = password or "<the password printed when the demo was first loaded>"
        if password is None:
            self.stdout.write(f"Admin {username!r} exists already (reset: .venv/bin/python manage.py "
                              f"changepassword {username}).")
        self.stdout.write(f"""
================ Modelyard demo ================
Console:  {BASE}/console/    user: {username}   password: {shown}   (staff admin: {BASE}/admin/)
API docs: {BASE}/api/docs

TOKEN=$(curl -s -X POST {BASE}/api/auth/token -H 'Content-Type: application/json' \\
  -d '{{"username": "{username}", "password": "{shown}"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])')

curl -s -X POST {BASE}/api/v1/models/iris/aliases/production/predict -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' -d '{{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}}'

curl -s -X POST {BASE}/api/v1/models/recommender/aliases/production/predict -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' -d '{{"inputs": [[0.1, -0.3, 0.5, 1.2, -0.7, 0.0, 0.3, -1.1, 0.8, 0.2, -0.4, 0.6, 1.0, -0.2, 0.1, -0.9]]}}'

# production is protected: it moves when a second maintainer or owner approves a promotion request
curl -s {BASE}/api/v1/models/iris/promotions -H "Authorization: Bearer $TOKEN"
=================================================
""")
