"""Keep server paths out of messages people see; the log keeps the full text.

Loaders (onnxruntime, skops, joblib) put the file they were given, and sometimes their own source
paths, in their error text. That text becomes a version's ``status_message`` or an API error, so it is
passed through :func:`redact` first.
"""

import os
import re
from pathlib import Path

PLACEHOLDER = "<path>"
ARTIFACT = "<artifact>"

# A file URL, an absolute POSIX path (not the middle of "a/b" nor a URL's "//host") or a Windows drive path.
_PATH_CHARS = r"[^\s'\"`,;()\[\]{}<>]"
_ABSOLUTE = re.compile(
    rf"\bfile:/{_PATH_CHARS}*"  # file URLs
    rf"|(?<![\w/.~>-])/(?!/){_PATH_CHARS}+"  # /an/absolute/path, not a/b nor a URL's //host
    rf"|\b[A-Za-z]:[\\/]{_PATH_CHARS}*"  # C:\a\windows\path
)


def redact(text: str, *paths: str | os.PathLike[str] | None) -> str:
    """``text`` with each of ``paths`` (and its folder) replaced, then every other absolute path."""
    for path in paths:
        if not path:
            continue
        for known in (str(path), str(Path(path).resolve())):
            text = text.replace(known, ARTIFACT)
        for folder in (str(Path(path).parent), str(Path(path).resolve().parent)):
            if folder not in ("/", "."):
                text = text.replace(folder, PLACEHOLDER)
    return _ABSOLUTE.sub(PLACEHOLDER, text)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_line(text: str, limit: int = 500) -> str:
    """The first non-blank line of an error text, without terminal colour codes: converters and loaders
    (torch.onnx, torch.export) append whole graphs to their messages, often in colour."""
    for line in _ANSI.sub("", text).splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""

