"""A BERT sentence encoder for sentence-transformers folders of the usual shape (BertModel
weights in model.safetensors, tokenizer.json, mean pooling, normalisation), from one set of
float32 arrays: ONNX Runtime for questions, PyTorch for batches.

Why: importing sentence-transformers pulls in transformers, scikit-learn and SciPy's statistics
(5.5 s on this machine before any model is read); this module needs tokenizers and safetensors,
ONNX Runtime for questions (search/question_graph.py: 3.6 ms a question, 0.1 s to import) and
PyTorch only for batches (ingest). So a server never imports PyTorch unless it ingests: PyTorch
takes 1.2 s to import, holding the interpreter meanwhile (a server that imported it in the
background answered its first questions in up to 600 ms), and 210 MB. Both paths compute the same
function with the same weights (tests/search/test_embedder.py compares them with
sentence-transformers: cosine above 0.9999 on every text). Folders of any other shape go to
sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from hub.unpacked import rows_on_disk

log = logging.getLogger(__name__)


def supports(folder: Path) -> bool:
    """True for a BERT model with mean pooling and normalisation, as all-MiniLM-L6-v2 is."""
    try:
        config = json.loads((folder / "config.json").read_text())
        modules = json.loads((folder / "modules.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and kinds == ["Transformer", "Pooling", "Normalize"]
            and pooling.get("pooling_mode_mean_tokens") and not pooling.get("pooling_mode_cls_token")
            and not pooling.get("pooling_mode_max_tokens")
            and (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists())


class BertEncoder:
    def __init__(self, folder: Path, cache: Path | None = None) -> None:
        """``cache``: the model cache, where the question graph is kept (hub/unpacked.py)."""
        from tokenizers import Tokenizer

        self.folder, self.cache = folder, cache
        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text()) \
            if (folder / "sentence_bert_config.json").exists() else {}
        self.max_tokens = int(st_config.get("max_seq_length", 512))
        self.dim = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        #: The token, position and type embeddings, which a question reads in NumPy. The layers'
        #: arrays are read for batches (ingest), or once to write the question graph: a server
        #: holds them in the graph alone, 43 MB less.
        # The word embeddings (45 MB) read from the model cache row by row rather than held: a
        # question reads a few of them (hub/unpacked.py). They are read from the weights file
        # only to make that copy, or when there is no model cache.
        words = "embeddings.word_embeddings.weight"
        table = rows_on_disk(cache, folder / "model.safetensors", lambda: self._read(lambda key: key == words)[words],
                             recipe="bert-words-1")
        self.embeddings = self._read(lambda key: key.startswith("embeddings.") and (table is None or key != words))
        if table is not None:
            self.embeddings[words] = table
        self._arrays: dict[str, np.ndarray] | None = None
        self._arrays_lock = threading.Lock()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        self.torch: Any = None
        self.w: dict[str, Any] = {}  # the arrays as PyTorch tensors (shared memory), at the first batch
        self._graph: Any = None  # the question layers (search/question_graph.py), at the first question
        self._graph_lock = threading.Lock()

    def _read(self, wanted: Any) -> dict[str, np.ndarray]:
        from safetensors import safe_open

        with safe_open(str(self.folder / "model.safetensors"), framework="numpy") as weights:
            return {k.removeprefix("bert."): np.ascontiguousarray(weights.get_tensor(k), dtype=np.float32)
                    for k in weights.keys() if wanted(k.removeprefix("bert."))}

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Every weight, read at the first use."""
        with self._arrays_lock:
            if self._arrays is None:
                # Every array read anew, the embeddings included: PyTorch wants them writable,
                # and a process that embeds batches reads all of the word embeddings anyway.
                self._arrays = self._read(lambda key: True)
            return self._arrays

    def _torch(self) -> Any:
        with self._graph_lock:
            if self.torch is None:
                import torch

                self.w = {k: torch.from_numpy(v) for k, v in self.arrays.items()}
                self.torch = torch
            return self.torch

    def _ln(self, x, name: str):  # type: ignore[no-untyped-def]
        return self.torch.nn.functional.layer_norm(x, (self.dim,), self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                                                   self.eps)

    def _linear(self, x, name: str):  # type: ignore[no-untyped-def]
        return self.torch.nn.functional.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        torch = self._torch()
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                width = max(len(encodings[i].ids) for i in idx)
                ids = torch.zeros((len(idx), width), dtype=torch.long)
                types = torch.zeros((len(idx), width), dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.float32)
                for row, i in enumerate(idx):
                    e = encodings[i]
                    ids[row, : len(e.ids)] = torch.tensor(e.ids)
                    types[row, : len(e.type_ids)] = torch.tensor(e.type_ids)
                    mask[row, : len(e.ids)] = 1.0
                vectors = self._forward(ids, types, mask)
                out[idx] = vectors.numpy()
        return out

    def _forward(self, ids, types, mask):  # type: ignore[no-untyped-def]
        torch = self.torch
        f = torch.nn.functional
        batch, width = ids.shape
        positions = torch.arange(width).unsqueeze(0)
        x = (f.embedding(ids, self.w["embeddings.word_embeddings.weight"])
             + f.embedding(positions, self.w["embeddings.position_embeddings.weight"])
             + f.embedding(types, self.w["embeddings.token_type_embeddings.weight"]))
        x = self._ln(x, "embeddings.LayerNorm")
        head = self.dim // self.heads
        bias = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"

            def split(t):  # type: ignore[no-untyped-def]
                return t.view(batch, width, self.heads, head).transpose(1, 2)

            q = split(self._linear(x, f"{p}.attention.self.query"))
            k = split(self._linear(x, f"{p}.attention.self.key"))
            v = split(self._linear(x, f"{p}.attention.self.value"))
            attended = f.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # fused, as transformers does
            context = attended.transpose(1, 2).reshape(batch, width, self.dim)
            x = self._ln(self._linear(context, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            hidden = f.gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = self._ln(self._linear(hidden, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        summed = (x * mask.unsqueeze(-1)).sum(dim=1)
        pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
        return f.normalize(pooled, p=2, dim=1)

    # --- one question at a time ------------------------------------------------------------------
    def encode_query(self, text: str) -> np.ndarray:
        """One text, the way a search needs it: no padding, so no mask; the embeddings in NumPy,
        the layers in ONNX Runtime (search/question_graph.py)."""
        encoding = self.tokenizer.encode(text)
        ids, types, a = encoding.ids, encoding.type_ids, self.embeddings
        x = (a["embeddings.word_embeddings.weight"][ids] + a["embeddings.position_embeddings.weight"][:len(ids)]
             + a["embeddings.token_type_embeddings.weight"][types])
        x = x - x.mean(axis=-1, keepdims=True)
        x /= np.sqrt((x * x).mean(axis=-1, keepdims=True) + np.float32(self.eps))
        x = x * a["embeddings.LayerNorm.weight"] + a["embeddings.LayerNorm.bias"]
        pooled = self._question_graph()(x=np.ascontiguousarray(x, dtype=np.float32))
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def _question_graph(self) -> Any:
        with self._graph_lock:
            if self._graph is None:
                from search.question_graph import BERT_GRAPH, QuestionGraph, bert_graph

                layers, heads, eps = self.layers, self.heads, self.eps
                self._graph = QuestionGraph(lambda: bert_graph(self.arrays, layers, heads, eps),
                                            self.folder / "model.safetensors", BERT_GRAPH, self.cache)
            return self._graph
