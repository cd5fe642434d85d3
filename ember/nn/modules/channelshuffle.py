"""``ChannelShuffle``: regroups channels as ShuffleNet does (module form of ``F.channel_shuffle``)."""
from __future__ import annotations

from ..._tensor import Tensor
from ..functional.pooling_extra import channel_shuffle
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """(N, C, *) -> (N, C, *): ``groups`` groups of ``C/groups`` channels are interleaved."""

    __constants__ = ["groups"]

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
