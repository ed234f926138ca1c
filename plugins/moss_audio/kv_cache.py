"""A key/value cache that grows in place, for a prefix extended a chunk at a time.

transformers' ``DynamicLayer`` concatenates every update onto the whole cache, a
copy of everything held so far for each appended chunk and each generated token.
:class:`ReservedLayer` writes updates into reserved room instead (doubling it when
full, up to the model's context) and hands attention views of the filled part, so
appending costs only the new positions. Cropping moves the end back, nothing more.
"""

from __future__ import annotations

import torch
from transformers import Cache
from transformers.cache_utils import DynamicLayer

FIRST_ROOM = 1024  # positions reserved at the first update


class ReservedLayer(DynamicLayer):
    """One layer's keys and values in a buffer with room to grow."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit  # positions the buffer may ever need (the model's context)
        self.length = 0
        self._keys = self._values = torch.empty(0)

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        """Reserve the first room, shaped like the states."""
        self.device = key_states.device
        room = min(self.limit, max(FIRST_ROOM, key_states.shape[-2]))
        self._keys = key_states.new_empty((*key_states.shape[:2], room, key_states.shape[-1]))
        self._values = value_states.new_empty(
            (*value_states.shape[:2], room, value_states.shape[-1])
        )
        self.is_initialized = True
        self._expose()

    def reserve_all(
        self, shape: tuple[int, int, int], dtype: torch.dtype, device: torch.device
    ) -> None:
        """Reserve the whole context now, zeroed: [batch, heads, limit, dim] that never moves.

        A CUDA graph reads and writes these buffers where they are, so they must not be
        reallocated; zeros (not whatever memory held) keep masked-off positions finite.
        """
        batch, heads, dim = shape
        self.device = device
        self._keys = torch.zeros((batch, heads, self.limit, dim), dtype=dtype, device=device)
        self._values = torch.zeros_like(self._keys)
        self.length = 0
        self.is_initialized = True
        self._expose()

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new positions after the held ones; views of everything held."""
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if end > self._keys.shape[-2]:
            self._grow(end)
        self._keys[..., self.length : end, :] = key_states
        self._values[..., self.length : end, :] = value_states
        self.length = end
        self._expose()
        return self.keys, self.values

    def write_at(
        self, positions: torch.Tensor, key_states: torch.Tensor, value_states: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write keys and values at ``positions`` in place; the whole room back.

        A graph's view of the cache: what lies past the filled part is masked off by the
        caller.
        """
        self._keys.index_copy_(2, positions, key_states)
        self._values.index_copy_(2, positions, value_states)
        return self._keys, self._values

    def filled_to(self, length: int) -> None:
        """The buffers now hold ``length`` positions (written in place, by a CUDA graph)."""
        if not 0 <= length <= self.reserved:
            raise ValueError(f"{length} positions in a room of {self.reserved}")
        self.length = length
        self._expose()

    def _grow(self, needed: int) -> None:
        room = max(needed, min(2 * self._keys.shape[-2], self.limit))
        for name in ("_keys", "_values"):
            old = getattr(self, name)
            new = old.new_empty((*old.shape[:2], room, old.shape[-1]))
            new[..., : self.length, :] = old[..., : self.length, :]
            setattr(self, name, new)

    def _expose(self) -> None:
        self.keys = self._keys[..., : self.length, :]
        self.values = self._values[..., : self.length, :]

    def get_seq_length(self) -> int:
        """Positions held."""
        return self.length

    def crop(self, tokens_to_remove: int) -> None:
        """Forget the last ``-tokens_to_remove`` positions (transformers' negative convention)."""
        if tokens_to_remove > 0:
            raise ValueError("crop takes a negative count of positions to remove")
        if self.is_initialized:
            self.length = max(0, self.length + tokens_to_remove)
            self._expose()

    def reset(self) -> None:
        """Hold nothing (the room stays reserved)."""
        self.length = 0
        if self.is_initialized:
            self._expose()

    @property
    def reserved(self) -> int:
        """Positions of room allocated."""
        return int(self._keys.shape[-2]) if self.is_initialized else 0


def reserved_cache(layers: int, limit: int) -> Cache:
    """A cache of :class:`ReservedLayer` for a model with ``layers`` attention layers."""
    return Cache(layers=[ReservedLayer(limit) for _ in range(layers)])
