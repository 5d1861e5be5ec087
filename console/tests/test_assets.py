"""The console works offline and under the content security policy: every asset is vendored and served by
the project, no template carries an inline script or event handler, and read-only pages need no script."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

TEMPLATES = sorted((Path(__file__).resolve().parents[1] / "templates" / "console").glob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_inline_script_or_handler(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert "javascript:" not in text
    assert "hx-on" not in text  # htmx's inline handlers would need 'unsafe-eval'


def test_every_referenced_asset_is_vendored():
    base = (Path(__file__).resolve().parents[1] / "templates" / "console" / "base.html").read_text()
    for name in re.findall(r"{% static '([^']+)' %}", base):
        assert finders.find(name), name
    assert not re.search(r"(src|href)=\"https?://", base)  # nothing from another origin


def test_pages_carry_the_strict_policy_and_render_without_script(client, maintainer, ready_iris):
    client.force_login(maintainer)
    response = client.get(reverse("console:model", args=["iris"]))
    assert "script-src 'self';" in response["Content-Security-Policy"]
    # Server-rendered: the versions, aliases and metrics are in the HTML itself.
    assert b">v1<" in response.content and b"production" in response.content
