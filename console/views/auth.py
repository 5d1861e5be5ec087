"""Sign-in and sign-out: Django's session login through the same backends as the token endpoint, so the
django-axes lockout and the per-username slow-down (config/auth_views.py) apply here unchanged."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        # ``next`` pointing back at this page would loop (Django raises on it): go home instead.
        url = super().get_redirect_url()
        return "" if url.split("?", 1)[0] == self.request.path else url


def locked_out(request: HttpRequest, message: str) -> HttpResponse:
    """The lockout and slow-down answers on the sign-in page itself (429), not a bare text page."""
    from django.contrib.auth.forms import AuthenticationForm

    form = AuthenticationForm(request, data=request.POST or None)
    return render(request, "console/login.html", {"form": form, "locked": message}, status=429)
