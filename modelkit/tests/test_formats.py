import io
import zipfile

import pytest

from modelkit.formats import detect_format


def detect(data: bytes) -> str | None:
    return detect_format(io.BytesIO(data))


def test_onnx_is_detected_from_its_protobuf_header(iris_onnx):
    assert detect(iris_onnx[0]) == "onnx"


def test_skops_is_a_zip_with_a_schema(recommender_skops):
    assert detect(recommender_skops[0]) == "skops"


def test_a_zip_without_a_skops_schema_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.onnx", b"x")
    assert detect(buffer.getvalue()) is None


def test_pickle_and_compressed_joblib_are_recognised(iris_pickle, iris_joblib):
    assert detect(iris_pickle) == "pickle"
    assert detect(iris_joblib) == "joblib"


@pytest.mark.parametrize("data", [b"", b"hello world", b"\x08", b"PK\x03\x04broken", b"<html></html>"])
def test_unknown_bytes_are_no_format(data):
    assert detect(data) is None
