"""Which part of a request a sampled Python stack belongs to: the categories of `make profile`.

py-spy (bench/cpu_profile.py) writes each sampled stack as frames "qualname (path:line)", outermost first,
with paths relative to sys.path (django/..., gunicorn/..., serving/..., bench/floor/...). A stack gets the
first category in PRECEDENCE that any of its frames matches (metrics inside the model call are metrics,
the JSON decoding inside the JWT check is auth); a stack matching none belongs to the code nearest its
leaf: gunicorn -> server, anything else -> framework/other. Native code (orjson, onnxruntime, numpy)
has no frame of its own: it shows as the Python line that called it, so a few rules read that line.

The rules name modules and functions of Django, DRF, simplejwt, gunicorn, prometheus_client and
Modelyard (current layout, and the names a DRF version would use); edit RULES when the code moves.
`make profile` prints the top lines of each category, so a misplaced function shows.
"""

import linecache
import re
import sys
import sysconfig
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CATEGORIES = {
    "server": "server: gunicorn (accept, HTTP parse/write, access log)",
    "parsing": "parsing: body read, JSON decode, input checks",
    "auth": "auth: JWT, caller, roles, permissions",
    "routing": "routing: URL resolve, model route and alias",
    "model": "model: predictor call (onnxruntime)",
    "encoding": "encoding: outputs to JSON, response object",
    "metrics": "metrics: Prometheus",
    "framework": "framework/other: Django/DRF handler, middleware, glue",
    "background": "background threads (bus listener, warm-up)",
}
# When frames of several categories are on one stack, the first of these wins.
PRECEDENCE = ("background", "metrics", "model", "auth", "routing", "parsing", "encoding")
# Modelyard's own packages, where function names decide (the library rules name files).
PROJECT = re.compile(r"^(serving|core|config|registry|modelkit)/")


@dataclass(frozen=True)
class Frame:
    function: str  # qualified: Class.method
    path: str
    line: int

    @classmethod
    def parse(cls, text: str) -> "Frame":
        match = re.fullmatch(r"(.*) \((.*):(\d+)\)", text.strip())
        if not match:
            return cls(text.strip(), "", 0)
        return cls(match.group(1), match.group(2), int(match.group(3)))


@dataclass(frozen=True)
class Rule:
    category: str
    path: str  # regex searched in the frame's path
    function: str = ""  # regex searched in the qualified function name ("" = any)
    source: str = ""  # regex searched in the source line; such a rule applies to the leaf frame only

    def matches(self, frame: Frame, leaf: bool) -> bool:
        if not re.search(self.path, frame.path):
            return False
        if self.function and not re.search(self.function, frame.function):
            return False
        if self.source:
            return leaf and bool(re.search(self.source, source_line(frame)))
        return True


RULES = (
    # Threads that are not serving the request.
    Rule("background", r"^(serving|core)/bus\.py$", r"listen|_run|run$|_loop"),
    Rule("background", r"^serving/warmup\.py$"),
    # Metrics: the client library, django-prometheus, and the module that declares Modelyard's metrics.
    Rule("metrics", r"^prometheus_client/"),
    Rule("metrics", r"^django_prometheus/"),
    Rule("metrics", r"^serving/metrics\.py$"),
    # The model: runtimes, the predictor cache and the engine around them; the floor's model classes.
    Rule("model", r"^(onnxruntime|sklearn|skops|scipy)/"),
    Rule("model", r"^modelkit/(runtimes/|deadline\.py$)"),
    Rule("model", r"^serving/(predictors|runtime_cache|engine|breaker)\.py$"),
    Rule("model", r"^bench/floor/views\.py$", r"^(OnnxModel|SklearnModel)\.predict$"),
    Rule("model", r".", source=r"\.session\.run\(|predict_proba\("),
    # Auth: token verification, who the caller is, roles and permissions (and DRF's throttles).
    Rule("auth", r"^(jwt|rest_framework_simplejwt|axes)/"),
    Rule("auth", r"^django/contrib/auth/"),
    Rule("auth", r"^rest_framework/(authentication|permissions|throttling)\.py$"),
    Rule("auth", r"^rest_framework/request\.py$", r"\.(user|auth|_authenticate|successful_authenticator)$"),
    Rule("auth", r"^rest_framework/views\.py$",
         r"\.(perform_authentication|check_permissions|check_object_permissions|check_throttles|get_authenticators"
         r"|get_permissions|get_throttles|permission_denied)$"),
    Rule("auth", r"^serving/access\.py$"),
    Rule("auth", r"^registry/(permissions|authentication|tokens)\.py$"),
    Rule("auth", PROJECT.pattern, r"(?i)authenticat|permission|check_role|token"),
    # Routing: Django's URL resolver, the serving handler's path test, the model route table.
    Rule("routing", r"^django/urls/"),
    Rule("routing", r"^serving/routing\.py$"),
    Rule("routing", r"^config/serving_handler\.py$", r"application$", source=r"\.match\("),
    Rule("routing", PROJECT.pattern, r"(?i)route|visible"),
    # Parsing: reading the body, JSON, the protocol's checks into an array.
    Rule("parsing", r"^django/http/request\.py$", r"\.(body|read|readline|_load_post_and_files|POST)$"),
    Rule("parsing", r"^django/core/handlers/wsgi\.py$", r"^LimitedStream\."),
    Rule("parsing", r"^rest_framework/parsers\.py$"),
    Rule("parsing", r"^rest_framework/request\.py$", r"\.(data|_load_data_and_files|_parse|_load_stream|POST|stream)$"),
    Rule("parsing", r"^rest_framework/views\.py$", r"\.(get_parsers|get_parser_context)$"),
    Rule("parsing", r"^serving/protocols/", r"decode|detect|parse"),
    Rule("parsing", r"^modelkit/(inputs|signatures)\.py$"),
    Rule("parsing", PROJECT.pattern, r"(?i)pars|decode|read_json|read_body|loads$"),
    Rule("parsing", r".", source=r"\b(orjson|json)\.loads\("),
    # Encoding: outputs to JSON bytes, the response object, DRF's negotiation and renderers.
    Rule("encoding", r"^rest_framework/(renderers|negotiation)\.py$"),
    Rule("encoding", r"^rest_framework/response\.py$"),
    Rule("encoding", r"^rest_framework/views\.py$", r"\.(perform_content_negotiation|get_renderers)$"),
    Rule("encoding", r"^django/template/response\.py$"),
    Rule("encoding", r"^django/http/response\.py$", r"\.(__init__|content|make_bytes)$"),
    Rule("encoding", r"^serving/protocols/", r"encode"),
    Rule("encoding", PROJECT.pattern, r"(?i)encode|dumps|render|json_response|respond|_default$"),
    Rule("encoding", r".", source=r"\b(orjson|json)\.dumps\(|HttpResponse\(|JsonResponse\("),
)

_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
_ROOTS = [REPO, *(Path(entry) for entry in sys.path if entry)]


def _resolve(path: str) -> Path | None:
    if path.startswith("<"):
        return None
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate if candidate.exists() else None
    for root in _ROOTS:
        if (root / path).exists():
            return root / path
    return None


def source_line(frame: Frame) -> str:
    resolved = _resolve(frame.path)
    return linecache.getline(str(resolved), frame.line) if resolved else ""


def _is_stdlib(path: str) -> bool:
    if path.startswith("<frozen") or path in ("", "<string>"):
        return True
    resolved = _resolve(path)
    if resolved is None:
        return False
    resolved = resolved.resolve()
    return resolved.is_relative_to(_STDLIB) and "site-packages" not in resolved.parts


def categorize(stack: list[Frame]) -> str:
    found = set()
    last = len(stack) - 1
    for depth, frame in enumerate(stack):
        for rule in RULES:
            if rule.category not in found and rule.matches(frame, depth == last):
                found.add(rule.category)
    for category in PRECEDENCE:
        if category in found:
            return category
    for frame in reversed(stack):  # the nearest code that is not the standard library
        if frame.path.startswith("gunicorn/") or frame.function == "<module>" and frame.path == "gunicorn":
            return "server"
        if not _is_stdlib(frame.path):
            return "framework"
    return "framework"


@dataclass
class Attribution:
    samples: Counter[str]  # category -> samples
    lines: dict[str, Counter[str]]  # category -> "function (path:line)" of the leaf -> samples

    @property
    def total(self) -> int:
        return sum(self.samples.values())

    def share(self, category: str) -> float:
        return self.samples[category] / self.total if self.total else 0.0


def attribute(raw: str) -> Attribution:
    """Categories of py-spy's raw output: one line per distinct stack, "frame;frame;... count"."""
    samples: Counter[str] = Counter()
    lines: dict[str, Counter[str]] = {category: Counter() for category in CATEGORIES}
    for text in raw.splitlines():
        stack_text, _, count = text.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        stack = [Frame.parse(part) for part in stack_text.split(";")]
        category = categorize(stack)
        samples[category] += int(count)
        leaf = stack[-1]
        lines[category][f"{leaf.function} ({leaf.path}:{leaf.line})"] += int(count)
    return Attribution(samples, lines)
