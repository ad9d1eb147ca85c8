"""A BERT sentence encoder for sentence-transformers folders of the usual shape (BertModel
weights in model.safetensors, tokenizer.json, mean pooling, normalisation), from one set of
float32 arrays: NumPy for questions at first, PyTorch for batches and, once compiled, questions.

Why: importing sentence-transformers pulls in transformers, scikit-learn and SciPy's statistics
(5.5 s on this machine before any model is read); this module needs tokenizers and safetensors,
and PyTorch only for batches. A question in NumPy takes about 8 ms against 3 in PyTorch's
half-precision kernels (search/bert_query.py), but PyTorch takes 1.5 s to import: a server
answers its first questions in NumPy and compiles the PyTorch layers in the background
(``speed_up``), so it starts without waiting for them (bench/scale.py, start-up); a one-off
command (``hub search``) never imports PyTorch. All paths compute the same function with the
same weights (tests/search/test_embedder.py compares them with sentence-transformers: cosine
above 0.9999 on every text). Folders of any other shape go to sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

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
    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text()) \
            if (folder / "sentence_bert_config.json").exists() else {}
        self.max_tokens = int(st_config.get("max_seq_length", 512))
        self.dim = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(folder / "model.safetensors"))
        self.arrays = {k.removeprefix("bert."): np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        self.torch: Any = None
        self.w: dict[str, Any] = {}  # the arrays as PyTorch tensors (shared memory), at the first batch
        self._query: Any = None  # the compiled layers for questions, once ``speed_up`` has made them
        self._query_lock = threading.Lock()
        self._compiling: threading.Thread | None = None

    def _torch(self) -> Any:
        with self._query_lock:
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
        """One text, the way a search needs it: no padding, so no mask; in the compiled PyTorch
        layers once ``speed_up`` has made them (search/bert_query.py), in NumPy until then."""
        encoding = self.tokenizer.encode(text)
        layers = self._query
        if layers:
            torch = self.torch
            width = len(encoding.ids)
            with torch.inference_mode():
                x = (self.w["embeddings.word_embeddings.weight"][torch.tensor(encoding.ids)]
                     + self.w["embeddings.position_embeddings.weight"][:width]
                     + self.w["embeddings.token_type_embeddings.weight"][torch.tensor(encoding.type_ids)])
                return layers(self._ln(x, "embeddings.LayerNorm")).numpy()
        return self._numpy_query(encoding.ids, encoding.type_ids)

    def speed_up(self, wait: bool = False) -> None:
        """Import PyTorch and compile the question layers in the background; ``wait``: until done."""
        with self._query_lock:
            if self._compiling is None:
                self._compiling = threading.Thread(target=self._compile, name="minilm-compile", daemon=True)
                self._compiling.start()
        if wait:
            self._compiling.join()

    def _compile(self) -> None:
        try:
            self._torch()
            from search.bert_query import query_layers
        except ImportError as exc:  # questions stay in NumPy, a little slower
            log.warning("PyTorch could not be imported (%s): questions are embedded in NumPy", exc)
            return
        # None without FBGEMM's half-precision kernels: questions then stay in NumPy.
        self._query = query_layers(self.w, self.layers, self.heads, self.eps)

    def _numpy_query(self, ids: list[int], types: list[int]) -> np.ndarray:
        a = self.arrays
        width, heads = len(ids), self.heads
        head = self.dim // heads
        x = (a["embeddings.word_embeddings.weight"][ids] + a["embeddings.position_embeddings.weight"][:width]
             + a["embeddings.token_type_embeddings.weight"][types])
        x = self._np_norm(x, "embeddings.LayerNorm")
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"

            def linear(x: np.ndarray, name: str) -> np.ndarray:
                return x @ a[f"{p}.{name}.weight"].T + a[f"{p}.{name}.bias"]  # a transposed view: no copy

            q, k, v = (linear(x, f"attention.self.{n}").reshape(width, heads, head).transpose(1, 0, 2)
                       for n in ("query", "key", "value"))
            scores = (q @ k.transpose(0, 2, 1)) * np.float32(1.0 / np.sqrt(head))
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(width, self.dim)
            x = self._np_norm(linear(context, "attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            hidden = _gelu(linear(x, "intermediate.dense"))
            x = self._np_norm(linear(hidden, "output.dense") + x, f"{p}.output.LayerNorm")
        pooled = x.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def _np_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        x = x - x.mean(axis=-1, keepdims=True)
        x /= np.sqrt((x * x).mean(axis=-1, keepdims=True) + np.float32(self.eps))
        return x * self.arrays[f"{name}.weight"] + self.arrays[f"{name}.bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU, x·Φ(x), with erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26): NumPy has
    no erf, and the tanh approximation moves the vectors more than the tests allow."""
    z = np.abs(x) * np.float32(0.7071067811865476)
    t = 1.0 / (1.0 + np.float32(0.3275911) * z)
    poly = ((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
             - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t
    return 0.5 * x * (1.0 + np.copysign(1.0 - poly * np.exp(-z * z), x))
