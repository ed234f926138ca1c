"""The LLM's attention: SDPA that shares key/value heads instead of copying them on CPU.

transformers' ``sdpa`` expands Qwen3's 8 key/value heads to its 32 query heads (a copy
of the whole cache in every layer, for every chunk) whenever a mask is passed, which
is always the case when a chunk is appended to a prefix. On CPU, torch's SDPA takes
the grouped heads as they are (``enable_gqa``); on CUDA the copy is kept, as the
fused kernels there take no mask with grouped heads. Registered with transformers'
attention and mask interfaces under :data:`NAME`.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

NAME = "roomtone_grouped_sdpa"


def grouped_sdpa(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    **kwargs: object,
) -> tuple[torch.Tensor, None]:
    """Attention over [batch, heads, length, dim]; the output as [batch, length, heads, dim]."""
    if query.device.type != "cpu" or getattr(module, "num_key_value_groups", 1) == 1:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, **kwargs
        )
    out = torch.nn.functional.scaled_dot_product_attention(
        query,
        key,
        value,
        attn_mask=attention_mask,
        scale=scaling,
        is_causal=attention_mask is None and query.shape[2] > 1,
        enable_gqa=True,
    )
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, grouped_sdpa)
ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
