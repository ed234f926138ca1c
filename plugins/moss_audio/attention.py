"""The LLM's attention: SDPA over grouped key/value heads without copying them.

transformers' ``sdpa`` expands Qwen3's 8 key/value heads to its 32 query heads (a copy
of the whole cache in every layer, for every chunk) whenever a mask is passed, which
is always the case when a chunk is appended to a prefix. On CPU, torch's SDPA takes
the grouped heads as they are (``enable_gqa``). On CUDA the fused kernels take no mask
with grouped heads, so the queries are folded instead: the query heads that share a
key/value head are laid end to end as one longer query of that head (the mask
repeated to match), which attends to the same keys with the same scores and needs no
copy of the cache. Registered with transformers' attention and mask interfaces under
:data:`NAME`.
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
    groups = getattr(module, "num_key_value_groups", 1)
    if groups > 1 and query.device.type == "cpu":
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
    if groups > 1 and attention_mask is not None:
        return folded_sdpa(query, key, value, attention_mask, scaling), None
    return sdpa_attention_forward(
        module, query, key, value, attention_mask, scaling=scaling, **kwargs
    )


def folded_sdpa(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor,
    scaling: float | None,
) -> torch.Tensor:
    """Masked attention with each key/value head's query heads as one query ([b, L, h, d]).

    ``query`` is [b, h, L, d] with query head ``j * groups + g`` reading key/value head
    ``j`` (transformers' ``repeat_kv`` order); ``mask`` is [b or 1, 1, L, S].
    """
    batch, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    if mask.shape[1] != 1:
        raise ValueError(f"expected one mask for every head, got {tuple(mask.shape)}")
    folded = query.reshape(batch, kv_heads, groups * length, dim)
    out = torch.nn.functional.scaled_dot_product_attention(
        folded, key, value, attn_mask=mask.repeat(1, 1, groups, 1), scale=scaling
    )
    return out.reshape(batch, heads, length, dim).transpose(1, 2).contiguous()


AttentionInterface.register(NAME, grouped_sdpa)
ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
