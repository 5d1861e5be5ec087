"""Load a model once in a child process before the validating worker loads it itself.

XGBoost's and LightGBM's C++ parsers can end the process on a corrupt file instead of raising
(measured: a truncated XGBoost JSON model segfaults ``Booster(model_file=...)`` about one time in
three; LightGBM calls std::terminate). A crash in the child becomes a clear load error here, and the
worker lives on. Only validation probes: a version that passed is byte-for-byte what web processes load.

Run as ``python -m modelkit.probe <format> <path>``: exit 0 when the model loads, 3 with the load
error's message on stdout when it is refused.
"""

import subprocess
import sys
from pathlib import Path

from modelkit.errors import RuntimeLoadError

# Formats whose loaders are native parsers seen to crash on corrupt input.
PROBED = frozenset({"xgboost", "lightgbm"})
_REFUSED = 3
# Where ``-m modelkit.probe`` imports from, whatever folder the worker was started in.
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def probe_load(fmt: str, path: Path, timeout: float = 120.0) -> None:
    """Raise RuntimeLoadError if loading ``path`` crashes, hangs or is refused; return if it loads."""
    if fmt not in PROBED:
        return
    try:
        child = subprocess.run([sys.executable, "-m", "modelkit.probe", fmt, str(path.resolve())],
                               capture_output=True, timeout=timeout, check=False, cwd=_PACKAGE_ROOT)
    except subprocess.TimeoutExpired:
        raise RuntimeLoadError(f"Loading this {fmt} model did not finish in {timeout:g} s") from None
    if child.returncode == 0:
        return
    if child.returncode == _REFUSED:
        raise RuntimeLoadError(child.stdout.decode("utf-8", errors="replace").strip()[:1000])
    how = f"signal {-child.returncode}" if child.returncode < 0 else f"exit status {child.returncode}"
    raise RuntimeLoadError(f"The {fmt} loader crashed reading this file ({how}): the file is corrupt")


def _main(fmt: str, path: str) -> int:
    from modelkit.policy import LoadPolicy
    from modelkit.runtimes import load_runtime

    try:
        load_runtime(fmt, Path(path), LoadPolicy())
    except RuntimeLoadError as exc:
        sys.stdout.write(exc.message)  # stderr carries the frameworks' own warnings
        return _REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], sys.argv[2]))
