"""The console in Chromium against gunicorn, a real Celery worker and beat, as its users work:

a maintainer (not staff) uploads a version and watches it become ready, tries it, requests its promotion;
a second maintainer approves; a canary starts and its chart draws; a batch job runs to 100% and its output
downloads; a team owner makes an API token, uses it, revokes it; an outsider sees none of it.
Screenshots of every page go to test-artifacts/console/.
"""

import time
import urllib.error
import urllib.request
from typing import Any

import orjson
import pytest

from batch.models import BatchJob
from batch.tests.conftest import csv_bytes, iris_like
from console.tests.browser import ARTIFACTS, Session, chromium  # noqa: F401  (a fixture)
from registry import services
from registry.models import AuditEvent, ModelAlias, ModelVersion, PromotionRequest, ServiceToken
from rollouts.models import Rollout
from rollouts.tests.live import beat, beat_env  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def people(owner, maintainer, outsider, settings):
    # The web server runs development settings, whose hashers do not include the suite's fast MD5.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    for user in (owner, maintainer, outsider):
        user.set_password(PASSWORD)
        user.save()
    return {"owner": owner, "maintainer": maintainer, "outsider": outsider}


@pytest.fixture
def iris(ready_iris, owner):
    services.alias_set(actor=owner, model=ready_iris.model, name="staging", version=ready_iris)
    return ready_iris.model


def sign_in(browser: Any, web_server: str, user: Any) -> Session:
    return Session(browser, web_server, user.username, PASSWORD)


def test_a_version_goes_from_upload_to_production_through_the_console(
        chromium, web_server, worker, people, iris, iris_onnx, tmp_path):  # noqa: F811
    mo = sign_in(chromium, web_server, people["maintainer"])
    mo.shot("01-home-maintainer")
    page = mo.page

    # Upload with metrics and an input example; the status turns ready without a reload.
    page.click("text=iris")
    mo.shot("02-model")
    page.click("text=Upload a version")
    model_file = tmp_path / "iris-v2.onnx"
    model_file.write_bytes(iris_onnx[0])
    page.set_input_files("#id_file", str(model_file))
    page.fill("#id_metrics", '{"accuracy": 0.97, "f1": 0.96}')
    page.fill("#id_input_example", orjson.dumps(iris_onnx[1]).decode())
    page.fill("#id_lineage", '{"run_id": "r-42"}')
    page.click("#upload-submit")  # a field the registry refuses: its message next to the field, nothing kept
    page.wait_for_selector(".error[data-field=lineage]")
    assert "Unknown lineage fields" in page.inner_text(".error[data-field=lineage]")
    mo.shot("03b-upload-refused")
    assert ModelVersion.objects.filter(model=iris).count() == 1
    mo.problems.clear()  # the browser logs the expected 400
    page.fill("#id_lineage", '{"source_run": "run-42", "git_commit": "9f2c1e7"}')
    mo.shot("03-upload")
    page.click("#upload-submit")
    page.wait_for_url(f"{web_server}/console/models/iris/versions/2")
    page.wait_for_selector("[data-status=ready]", timeout=90_000)
    assert ModelVersion.objects.get(model=iris, version=2).status == "ready"

    # Try it: the example goes to the real predict route and the answer shows.
    page.click("#try-send")
    page.wait_for_selector("#try-answer[data-status='200']")
    assert '"version": 2' in page.inner_text("#try-answer")
    mo.shot("04-version-ready-try-it")

    # Request the promotion of v2 to protected production.
    page.fill("#id_reason", "better accuracy on the November data")
    page.click("#promote button[type=submit]")
    page.wait_for_selector("#promotion-status")
    assert page.inner_text("#promotion-status") == "open"
    assert page.locator("#approve").count() == 0  # four eyes: not the requester
    mo.shot("05-promotion-requested")
    request = PromotionRequest.objects.get(model=iris, version__version=2)

    # A second maintainer (the owner) finds it under "needs your review" and approves.
    olivia = sign_in(chromium, web_server, people["owner"])
    olivia.page.click(f"#review >> text=#{request.pk}")
    olivia.shot("06-review")
    assert "accuracy" in olivia.page.inner_text("body")
    olivia.page.click("#approve")
    olivia.page.wait_for_selector("#promotion-status:text('approved')")
    assert ModelAlias.objects.get(model=iris, name="production").version.version == 2
    assert AuditEvent.objects.filter(action="promotion.approve", actor=people["owner"]).exists()
    olivia.go("/console/promotions")
    olivia.shot("06b-promotions")

    # The metric chart and the compare page.
    mo.go("/console/models/iris")
    mo.page.wait_for_selector("#metric-charts canvas")
    mo.shot("07-model-with-metric-charts")
    mo.page.click("text=Compare A and B")
    mo.page.wait_for_selector("text=side by side")
    mo.shot("08-compare")
    assert not mo.problems and not olivia.problems, mo.problems + olivia.problems


def test_a_canary_draws_its_chart_and_a_batch_job_reaches_100_percent(
        chromium, web_server, worker, beat, people, iris, iris_onnx, tmp_path):  # noqa: F811
    from conftest import make_version

    make_version(iris, people["owner"], iris_onnx[0], filename="iris.onnx", metrics={"accuracy": 0.98})
    mo = sign_in(chromium, web_server, people["maintainer"])
    page = mo.page

    mo.go("/console/models/iris/rollouts/new")
    page.select_option("#id_alias", "staging")
    page.select_option("#id_version", "2")
    page.fill("#id_steps", "50, 100")
    page.fill("#id_step_seconds", "2")
    mo.shot("09-rollout-new")
    page.click("#rollout-form button[type=submit]")
    try:
        page.wait_for_selector("#weight-chart canvas")
    except Exception:
        mo.shot("debug-rollout")
        raise AssertionError(f"{page.url} {mo.problems}") from None
    rollout = Rollout.objects.get(model=iris, alias="staging")
    assert int(page.get_attribute("#weight-chart", "data-points") or 0) >= 2  # the start and where it stands now
    first = float(page.get_attribute("#weight-chart", "data-until") or 0)
    deadline = time.monotonic() + 30  # the chart redraws every two seconds while the rollout runs
    while float(page.get_attribute("#weight-chart", "data-until") or 0) <= first and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert float(page.get_attribute("#weight-chart", "data-until") or 0) > first  # drawn again, up to now
    mo.shot("10-rollout-live")
    page.click("#steer >> text=Abort")
    page.wait_for_selector("#rollout-status:text('aborted')")
    rollout.refresh_from_db()
    assert rollout.status == "aborted"
    assert AuditEvent.objects.filter(action__startswith="rollout.", actor=people["maintainer"]).exists()
    mo.go("/console/rollouts")
    mo.shot("10b-rollouts")

    # A batch job: submit a CSV, watch the bar reach 100%, download the output.
    rows = iris_like(300, seed=3)
    data = tmp_path / "score-me.csv"
    data.write_bytes(csv_bytes(rows))
    mo.go("/console/batch")
    page.select_option("#id_model", "iris")
    page.fill("#id_alias", "production")
    page.select_option("#id_output_format", "csv")
    page.fill("#id_id_column", "id")
    page.set_input_files("#batch-form #id_file", str(data))
    page.click("#batch-form button[type=submit]")
    page.wait_for_selector("#batch-table [data-status=succeeded]", timeout=120_000)
    assert "100%" in page.inner_text("#batch-table")
    mo.shot("11-batch-done")
    with page.expect_download() as download:
        page.click("#batch-table .download-output")
    output = download.value.path().read_text()
    assert len(output.strip().splitlines()) == 301  # a header and one row per input row
    job = BatchJob.objects.get()
    assert job.rows_done == 300 and job.created_by == people["maintainer"]
    assert not mo.problems, mo.problems


def test_a_team_token_works_until_its_owner_revokes_it_and_outsiders_see_nothing(
        chromium, web_server, people, iris, iris_rows):  # noqa: F811
    olivia = sign_in(chromium, web_server, people["owner"])
    olivia.go("/console/teams")
    olivia.shot("12a-teams")
    olivia.page.fill("#tok-name-acme", "ci-deploy")
    olivia.page.select_option("#tok-role-acme", "predictor")
    olivia.page.click("#team-acme button:text('Create token')")
    secret = olivia.page.inner_text("#token-secret").strip()
    olivia.shot("12-token-created")
    assert predict(web_server, secret, iris_rows) == 200
    olivia.go("/console/teams")
    assert secret not in olivia.page.content()  # shown once
    olivia.page.click("#team-acme button:text('Revoke')")
    olivia.page.wait_for_selector("text=revoked")
    time.sleep(1.0)
    assert predict(web_server, secret, iris_rows) == 401
    assert ServiceToken.objects.get(name="ci-deploy").revoked_at is not None
    olivia.go("/console/audit?action=service_token.revoke")
    olivia.shot("13-audit-log")
    assert "ci-deploy" in olivia.page.inner_text("table.audit")

    oscar = sign_in(chromium, web_server, people["outsider"])
    oscar.shot("14-home-outsider")
    assert "iris" not in oscar.page.inner_text("main")
    response = oscar.go("/console/models/iris")
    assert response.status == 404
    oscar.shot("15-outsider-404")
    oscar.problems.clear()  # the browser logs the 404 it was shown
    for path in ("/console/promotions", "/console/rollouts", "/console/batch", "/console/audit"):
        oscar.go(path)
        assert "iris" not in oscar.page.inner_text("main"), path
    assert not olivia.problems and not oscar.problems, olivia.problems + oscar.problems


def predict(base: str, token: str, rows: list) -> int:
    request = urllib.request.Request(f"{base}/api/v1/models/iris/aliases/production/predict", method="POST",
                                     data=orjson.dumps({"inputs": rows}), headers={
                                         "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_read_only_pages_work_with_javascript_off(chromium, web_server, people, iris):  # noqa: F811
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{web_server}/console/login")
    page.fill("#id_username", people["maintainer"].username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{web_server}/console/")
    assert "iris" in page.inner_text("#models")
    for path, expected in (("/console/models/iris", "production"), ("/console/models/iris/versions/1", "float32"),
                           ("/console/audit", "alias.set"), ("/console/batch", "No batch job yet")):
        page.goto(web_server + path)
        assert expected in page.inner_text("main"), path
    page.screenshot(path=str(ARTIFACTS / "16-model-javascript-off.png"), full_page=True)
    page.set_viewport_size({"width": 420, "height": 900})  # a phone-sized window, for the eye
    for path, name in (("/console/models/iris", "17-model-narrow"), ("/console/", "18-home-narrow")):
        page.goto(web_server + path)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
