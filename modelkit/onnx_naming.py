"""Give a converted ONNX graph Modelyard's output names, so it answers exactly like its framework.

Converters name outputs their own way (onnxmltools: ``label`` / ``probabilities`` / ``variable``,
torch.onnx: whatever the exporter was told); the equivalence check compares outputs by name.
"""

from typing import Any


def standard_outputs(model: Any, names: list[str]) -> bytes:
    """Rename the graph's outputs, in order, to ``names``; every output's first dimension becomes the batch."""
    graph = model.graph
    if len(graph.output) != len(names):
        raise ValueError(f"the converted graph has {len(graph.output)} outputs, the model answers {len(names)}")
    taken = {value for node in graph.node for value in [*node.input, *node.output]} | {i.name for i in graph.input}
    renames = {}
    for output, name in zip(graph.output, names, strict=True):
        if output.name != name and name in taken:
            raise ValueError(f"the converted graph already uses the name {name!r}")
        renames[output.name] = name
    for node in graph.node:
        node.output[:] = [renames.get(value, value) for value in node.output]
        node.input[:] = [renames.get(value, value) for value in node.input]
    for output in graph.output:
        output.name = renames[output.name]
        dims = output.type.tensor_type.shape.dim
        if len(dims):  # some converters declare a fixed batch of 1 for labels (onnxruntime warns on every run)
            dims[0].Clear()
            dims[0].dim_param = "batch"
    return model.SerializeToString()
