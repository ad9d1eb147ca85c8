"""The encoder's layers for one question at a time: the search's share of the model.

Why a second path beside the batch one (search/bert.py): a question is 10 to 40 tokens, and at
that size the matrix products are small and PyTorch spends much of its time between operations.
Here
- the query, key and value products are one product;
- the weights are packed once for FBGEMM's half-precision kernel (stored in float16, arithmetic
  in float32), which handles small products better than MKL's float32 one;
- the layers are compiled with TorchScript, which runs them without going back to Python
  between operations.
A Cranfield question takes about 6 ms instead of 13 on this machine, and its vector matches the
batch path's to a cosine of 0.99999 (tests/search/test_embedder.py).

Imported only when a question is first embedded: it imports PyTorch at the top, as TorchScript
needs a module-level class.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, List

import torch

log = logging.getLogger(__name__)


class QueryLayers(torch.nn.Module):
    """The transformer layers for one sequence (width, dim), then mean pooling and normalisation."""

    def __init__(self, weights: dict[str, Any], layers: int, heads: int, eps: float) -> None:
        super().__init__()
        prepack = torch.ops.quantized.linear_prepack_fp16
        names = [f"encoder.layer.{i}" for i in range(layers)]

        def packed(name: str) -> Any:
            return prepack(weights[f"{name}.weight"], weights[f"{name}.bias"])

        self.qkv: List[Any] = [
            prepack(torch.cat([weights[f"{n}.attention.self.{p}.weight"] for p in ("query", "key", "value")]),
                    torch.cat([weights[f"{n}.attention.self.{p}.bias"] for p in ("query", "key", "value")]))
            for n in names]
        self.out: List[Any] = [packed(f"{n}.attention.output.dense") for n in names]
        self.up: List[Any] = [packed(f"{n}.intermediate.dense") for n in names]
        self.down: List[Any] = [packed(f"{n}.output.dense") for n in names]
        self.norm1_w: List[torch.Tensor] = [weights[f"{n}.attention.output.LayerNorm.weight"] for n in names]
        self.norm1_b: List[torch.Tensor] = [weights[f"{n}.attention.output.LayerNorm.bias"] for n in names]
        self.norm2_w: List[torch.Tensor] = [weights[f"{n}.output.LayerNorm.weight"] for n in names]
        self.norm2_b: List[torch.Tensor] = [weights[f"{n}.output.LayerNorm.bias"] for n in names]
        self.heads = heads
        self.dim = int(weights[f"{names[0]}.attention.output.dense.weight"].shape[0])
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        width = x.size(0)
        head = self.dim // self.heads
        for i in range(len(self.qkv)):
            qkv = torch.ops.quantized.linear_dynamic_fp16(x, self.qkv[i])
            qkv = qkv.view(width, 3, self.heads, head).permute(1, 2, 0, 3)
            context = torch.nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
            context = context.transpose(0, 1).reshape(width, self.dim)
            x = torch.nn.functional.layer_norm(torch.ops.quantized.linear_dynamic_fp16(context, self.out[i]) + x,
                                               [self.dim], self.norm1_w[i], self.norm1_b[i], self.eps)
            hidden = torch.nn.functional.gelu(torch.ops.quantized.linear_dynamic_fp16(x, self.up[i]))
            x = torch.nn.functional.layer_norm(torch.ops.quantized.linear_dynamic_fp16(hidden, self.down[i]) + x,
                                               [self.dim], self.norm2_w[i], self.norm2_b[i], self.eps)
        return torch.nn.functional.normalize(x.mean(dim=0), p=2.0, dim=0)


def query_layers(weights: dict[str, Any], layers: int, heads: int, eps: float) -> torch.nn.Module | None:
    """The compiled layers; uncompiled if TorchScript fails; None without FBGEMM (a PyTorch
    built without it: the batch path then serves questions)."""
    try:
        module = QueryLayers(weights, layers, heads, eps).eval()
    except (AttributeError, RuntimeError) as exc:
        log.info("no FBGEMM half-precision kernels (%s): questions take the batch path", exc)
        return None
    try:
        with warnings.catch_warnings():  # TorchScript is in maintenance, not gone, in PyTorch 2.13
            warnings.simplefilter("ignore")
            return torch.jit.script(module)
    except Exception as exc:  # noqa: BLE001 - the same layers run uncompiled, a little slower
        log.info("TorchScript could not compile the query layers (%s); running them uncompiled", exc)
        return module
