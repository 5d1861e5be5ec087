"""Driving the admin's HTML views like a browser: read a page's forms, send them back changed."""

from typing import Any

from django.db.models import Model
from django.test import Client
from django.urls import reverse

from registry.models import Membership


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:registry_{model._meta.model_name}_{view}", args=args)


def form_data(page: Any) -> dict[str, Any]:
    """What a browser sends back for the page unchanged: its form, and every inline with its management form."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is True:
                data[field.html_name] = "on"
            elif value is not None and value is not False:
                data[field.html_name] = value
    return data


def row(page: Any, username: str) -> str:
    """The form prefix of a member's row in the team page's membership inline."""
    formset = next(i.formset for i in page.context["inline_admin_formsets"] if i.formset.model is Membership)
    return next(f.prefix for f in formset.forms if f.instance.user.username == username)


def submit(client: Client, target: str, data: dict[str, Any]) -> None:
    response = client.post(target, data)
    assert response.status_code == 302, (response.status_code, page_errors(response))


def page_errors(response: Any) -> list[Any]:
    """The form and inline errors of a re-rendered admin page, to explain a failed submit."""
    if not response.context or "adminform" not in response.context:
        return []
    inlines = [(i.formset.errors, i.formset.non_form_errors()) for i in response.context["inline_admin_formsets"]]
    return [response.context["adminform"].form.errors, *inlines]


def act(client: Client, model: type[Model], action: str, *objects: Model) -> None:
    submit(client, url(model, "changelist"),
           {"action": action, "_selected_action": [o.pk for o in objects], "index": 0, "post": "yes"})
