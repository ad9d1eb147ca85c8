"""A BERT sentence encoder in plain PyTorch, for sentence-transformers folders of the usual shape
(BertModel weights in model.safetensors, tokenizer.json, mean pooling, normalisation).

Why: importing sentence-transformers pulls in transformers, scikit-learn and SciPy's statistics
and takes about 5.5 s on this machine before any model is read; this module needs only torch,
tokenizers and safetensors, and the hub starts in about a third of the time. It computes the
same function with the same weights (tests/search/test_embedder.py compares the two: cosine
above 0.9999 on every text). Folders of any other shape go to sentence-transformers.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np


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
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.torch = torch
        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text()) \
            if (folder / "sentence_bert_config.json").exists() else {}
        self.max_tokens = int(st_config.get("max_seq_length", 512))
        self.dim = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(folder / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.float() for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        self._query: Any = None  # the compiled layers for questions, made at the first one
        self._query_lock = threading.Lock()

    def _ln(self, x, name: str):  # type: ignore[no-untyped-def]
        return self.torch.nn.functional.layer_norm(x, (self.dim,), self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                                                   self.eps)

    def _linear(self, x, name: str):  # type: ignore[no-untyped-def]
        return self.torch.nn.functional.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        torch = self.torch
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
        """One text, the way a search needs it: about twice as fast as :meth:`encode`
        (search/bert_query.py says how)."""
        layers = self._query_layers()
        if layers is None:
            return self.encode([text], batch_size=1)[0]
        torch = self.torch
        encoding = self.tokenizer.encode(text)
        width = len(encoding.ids)
        with torch.inference_mode():
            x = (self.w["embeddings.word_embeddings.weight"][torch.tensor(encoding.ids)]
                 + self.w["embeddings.position_embeddings.weight"][:width]
                 + self.w["embeddings.token_type_embeddings.weight"][torch.tensor(encoding.type_ids)])
            return layers(self._ln(x, "embeddings.LayerNorm")).numpy()

    def _query_layers(self):  # type: ignore[no-untyped-def]
        with self._query_lock:
            if self._query is None:
                from search.bert_query import query_layers

                self._query = query_layers(self.w, self.layers, self.heads, self.eps) or False
            return self._query or None
