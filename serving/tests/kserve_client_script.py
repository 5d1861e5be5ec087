"""Run by serving/tests/test_kserve_client.py with .venv-kserve's Python: KServe's own InferenceRESTClient,
unchanged, against a live Modelyard. Prints one JSON object with what each call answered."""

import asyncio
import json
import sys

import httpx
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig


async def main(base: str, token: str, model: str, rows: list) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    found: dict = {}
    v1 = InferenceRESTClient(RESTConfig(protocol="v1", retries=0))
    found["v1_ready"] = await v1.is_model_ready(base, model, headers=headers)
    found["v1"] = await v1.infer(base, {"instances": rows}, model_name=model, headers=headers)
    v2 = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
    found["v2_ready"] = await v2.is_model_ready(base, model, headers=headers)
    request = InferRequest(model_name=model, infer_inputs=[
        InferInput(name="input-0", shape=[len(rows), len(rows[0])], datatype="FP32", data=rows)])
    answer = await v2.infer(base, request, model_name=model, headers=headers)
    found["v2"] = {output.name: output.data for output in answer.outputs}
    try:
        await v1.infer(base, {"instances": rows}, model_name=model, headers={"Authorization": "Bearer forged"})
    except httpx.HTTPStatusError as exc:
        found["forged"] = exc.response.status_code
    return found


if __name__ == "__main__":
    base, token, model, rows = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    print(json.dumps(asyncio.run(main(base, token, model, rows))))
