"""A BERT encoder's layers for one question at a time, as an ONNX graph run by ONNX Runtime.

Why: a question is 10 to 40 tokens, where NumPy spends most of its time packing the model's
matrices for each product (10 ms a question on this machine). ONNX Runtime packs them once and
fuses the attention: 3.6 ms, as fast as PyTorch's half-precision kernels were, but it imports in
0.1 s against PyTorch's 1.2 s, which held the interpreter while a server answered its first
questions (bench/scale.py: p99 190 ms), and costs 80 MB against 210.

The graph is written from the model's own arrays (search/bert.py) with the ``onnx`` package,
once, and kept in the model cache (hub/unpacked.py); a later start only loads it. Its input is
the tokens' embeddings after the first normalisation (computed in NumPy by the caller), its
output their mean: the same function as the batch path (tests/search/test_embedder.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hub.unpacked import unpacked

#: Threads for one question: a search does nothing else meanwhile. They sleep when done rather
#: than spin, which took the cores from the engine's search that follows (bench/scale.py).
THREADS = 2
#: The graph's layout: change it with ``build``, so that graphs kept by an earlier hub are rebuilt.
GRAPH = "bert-question-1 opset20"


class QuestionGraph:
    def __init__(self, arrays: dict[str, np.ndarray], layers: int, heads: int, eps: float,
                 source: Path, cache: Path | None = None) -> None:
        """``source``: the weights file, which names the cached graph; ``cache``: the model cache
        (None: the graph is built in memory at every start, about 1 s)."""
        import onnxruntime

        def write(_: Path, target: Path) -> None:
            target.write_bytes(build(arrays, layers, heads, eps))

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        copy = unpacked(cache, source, write, suffix=".onnx", recipe=GRAPH)
        model: Any = str(copy) if copy is not None else build(arrays, layers, heads, eps)
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(width, dim) normalised token embeddings -> their mean after the layers."""
        return self._session.run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]


def build(arrays: dict[str, np.ndarray], layers: int, heads: int, eps: float) -> bytes:
    """The serialised ONNX model of the encoder layers and mean pooling (opset 20)."""
    from onnx import TensorProto, checker, helper, numpy_helper

    dim = int(arrays["encoder.layer.0.attention.output.dense.weight"].shape[0])
    head = dim // heads
    weights: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    const("qkv_shape", np.array([-1, 3, heads, head], dtype=np.int64))
    const("context_shape", np.array([-1, dim], dtype=np.int64))
    const("first", np.array([0], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(head), dtype=np.float32))
    x = "x"
    for layer in range(layers):
        p = f"encoder.layer.{layer}"

        def dense(inputs: str, name: str) -> str:
            w = const(f"{p}.{name}.w", arrays[f"{p}.{name}.weight"].T)
            b = const(f"{p}.{name}.b", arrays[f"{p}.{name}.bias"])
            return node("Add", [node("MatMul", [inputs, w], f"{p}.{name}.product"), b], f"{p}.{name}.out")

        def norm(inputs: str, name: str) -> str:
            g = const(f"{p}.{name}.g", arrays[f"{p}.{name}.weight"])
            b = const(f"{p}.{name}.beta", arrays[f"{p}.{name}.bias"])
            return node("LayerNormalization", [inputs, g, b], f"{p}.{name}.out", axis=-1, epsilon=eps)

        # query, key and value in one product, then per head: (3, heads, width, head)
        parts = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
        w = const(f"{p}.qkv.w", np.concatenate([arrays[f"{n}.weight"] for n in parts]).T)
        b = const(f"{p}.qkv.b", np.concatenate([arrays[f"{n}.bias"] for n in parts]))
        qkv = node("Add", [node("MatMul", [x, w], f"{p}.qkv.product"), b], f"{p}.qkv")
        qkv = node("Transpose", [node("Reshape", [qkv, "qkv_shape"], f"{p}.qkv.heads")], f"{p}.qkv.t", perm=[1, 2, 0, 3])
        nodes.append(helper.make_node("Split", [qkv], [f"{p}.q3", f"{p}.k3", f"{p}.v3"], axis=0, num_outputs=3))
        q, k, v = (node("Squeeze", [f"{p}.{n}3", "first"], f"{p}.{n}") for n in "qkv")
        scores = node("Mul", [node("MatMul", [q, node("Transpose", [k], f"{p}.kt", perm=[0, 2, 1])], f"{p}.s0"), "scale"],
                      f"{p}.s1")
        context = node("MatMul", [node("Softmax", [scores], f"{p}.s", axis=-1), v], f"{p}.c0")
        context = node("Reshape", [node("Transpose", [context], f"{p}.c1", perm=[1, 0, 2]), "context_shape"], f"{p}.context")
        x = norm(node("Add", [dense(context, "attention.output.dense"), x], f"{p}.r1"), "attention.output.LayerNorm")
        hidden = node("Gelu", [dense(x, "intermediate.dense")], f"{p}.gelu")
        x = norm(node("Add", [dense(hidden, "output.dense"), x], f"{p}.r2"), "output.LayerNorm")
    node("ReduceMean", [x, "first"], "pooled", keepdims=0)
    graph = helper.make_graph(nodes, "bert_question", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["width", dim])],
                              [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [dim])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 10  # what onnxruntime 1.20 reads
    checker.check_model(model)
    return model.SerializeToString()
