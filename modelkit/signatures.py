"""Signatures: the input/output schema a version promises.

Modelyard serves tabular models: one 2-D input of ``features`` numeric columns, optionally
named. ``{"inputs": {"dtype": "float32", "features": 4, "columns": ["a", ...] | null},
"outputs": ["labels", "probabilities"]}``.
"""

from typing import Any

from modelkit.errors import SignatureError

DTYPES = ("float32", "float64", "int64", "int32")


def _fail(message: str) -> SignatureError:
    return SignatureError(message)


def _normalize_inputs(inputs: Any) -> dict[str, Any]:
    if not isinstance(inputs, dict):
        raise _fail("signature.inputs must be an object with dtype, features and columns")
    dtype = inputs.get("dtype", "float64")
    if dtype not in DTYPES:
        raise _fail(f"signature.inputs.dtype must be one of {', '.join(DTYPES)}")
    columns = inputs.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns)
        or len(set(columns)) != len(columns)
    ):
        raise _fail("signature.inputs.columns must be a list of distinct non-empty names")
    features = inputs.get("features", len(columns) if columns else None)
    if features is not None and (isinstance(features, bool) or not isinstance(features, int) or features < 1):
        raise _fail("signature.inputs.features must be a positive integer")
    if columns and features != len(columns):
        raise _fail("signature.inputs.features must equal the number of columns")
    return {"dtype": dtype, "features": features, "columns": columns}


def signature_normalize(signature: Any) -> dict[str, Any]:
    """Check a client-declared signature and return it in canonical form ({} when absent)."""
    if signature in (None, {}):
        return {}
    if not isinstance(signature, dict) or "inputs" not in signature:
        raise _fail("signature must be an object with an 'inputs' entry")
    outputs = signature.get("outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        raise _fail("signature.outputs must be a list of output names")
    return {"inputs": _normalize_inputs(signature["inputs"]), "outputs": outputs}


def signature_conflicts(declared: dict[str, Any], inferred: dict[str, Any]) -> list[str]:
    """What a declared signature says that the artifact contradicts."""
    if not declared:
        return []
    problems = []
    mine, theirs = declared["inputs"], inferred["inputs"]
    if theirs["features"] is not None and mine["features"] not in (None, theirs["features"]):
        problems.append(f"declared {mine['features']} input features, the model takes {theirs['features']}")
    if theirs["columns"] and mine["columns"] and mine["columns"] != theirs["columns"]:
        problems.append(f"declared columns {mine['columns']}, the model was fitted on {theirs['columns']}")
    return problems


def signature_merge(declared: dict[str, Any], inferred: dict[str, Any]) -> dict[str, Any]:
    """The signature to serve: the artifact's facts, with names the uploader declared."""
    if not declared:
        return inferred
    inputs = dict(inferred["inputs"])
    inputs["features"] = inputs["features"] or declared["inputs"]["features"]
    inputs["columns"] = inputs["columns"] or declared["inputs"]["columns"]
    return {"inputs": inputs, "outputs": inferred["outputs"]}
