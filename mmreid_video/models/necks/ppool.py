# Copyright (c) mmreid_video contributors. All rights reserved.
"""PPool: horizontal partition pooling of block feature maps into tokens."""
from typing import List, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_video.registry import MODELS


@MODELS.register_module()
class PPool(BaseModule):
    """Stripe pooling of several blocks, projected to one token width.

    The feature map of every block is split into ``N`` horizontal stripes and
    each stripe is average pooled to one vector, so a frame gives ``N`` tokens
    per block. Tokens of block ``i`` are projected to ``embed_dims`` by a
    Linear + LayerNorm of their own (blocks have different widths). Stripes
    are the bins of adaptive average pooling: equal when the map height is
    a multiple of ``N``, overlapping by a row otherwise.

    Args:
        in_channels (Sequence[int]): Channels of each block fed to PPool.
        num_stripes (int | Sequence[int]): Stripes per block, one value for
            all blocks or one per block. Defaults to 4.
        embed_dims (int): Token width ``d`` after projection. Defaults to 512.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.

    Examples:
        >>> import torch
        >>> ppool = PPool(in_channels=[8, 16], num_stripes=[2, 4],
        ...               embed_dims=32)
        >>> feats = (torch.rand(6, 8, 16, 8), torch.rand(6, 16, 8, 4))
        >>> [t.shape for t in ppool(feats, num_frames=3)]
        [torch.Size([2, 3, 2, 32]), torch.Size([2, 3, 4, 32])]
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 num_stripes: Union[int, Sequence[int]] = 4,
                 embed_dims: int = 512,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = list(in_channels)
        if not in_channels:
            raise ValueError('PPool: `in_channels` must list at least one '
                             'block, got an empty list.')
        if isinstance(num_stripes, int):
            num_stripes = [num_stripes] * len(in_channels)
        num_stripes = list(num_stripes)
        if len(num_stripes) != len(in_channels):
            raise ValueError(
                f'PPool: `num_stripes` has {len(num_stripes)} entries but '
                f'`in_channels` has {len(in_channels)}; give one per block.')
        if any(n < 1 for n in num_stripes):
            raise ValueError(
                f'PPool: every `num_stripes` must be >= 1, got {num_stripes}.')
        self.in_channels = in_channels
        self.num_stripes = num_stripes
        self.embed_dims = embed_dims
        self.projs = nn.ModuleList(
            nn.Sequential(nn.Linear(c, embed_dims), nn.LayerNorm(embed_dims))
            for c in in_channels)

    def pool(self, feat: torch.Tensor, index: int) -> torch.Tensor:
        """Stripe-pool one block: (B*T, C, H, W) -> (B*T, N, C)."""
        num_stripes = self.num_stripes[index]
        if feat.dim() != 4 or feat.size(1) != self.in_channels[index]:
            raise ValueError(
                f'PPool: block {index} expects a (B*T, '
                f'{self.in_channels[index]}, H, W) map, got shape '
                f'{tuple(feat.shape)}; check `in_channels` in the config.')
        if feat.size(2) < num_stripes:
            # Adaptive pooling would silently repeat rows as fake stripes.
            raise ValueError(
                f'PPool: block {index} map height {feat.size(2)} is smaller '
                f'than num_stripes={num_stripes}; use fewer stripes or a '
                'larger input.')
        h = feat.size(2)
        if h % num_stripes == 0:
            # Equal stripes: a view + mean is ~10x faster than adaptive
            # pooling on CPU, and the largest map (block 1) is big. Splitting
            # H alone is a view in both NCHW and channels-last layouts.
            pooled = feat.unflatten(2, (num_stripes, -1)).mean(dim=(3, 4))
        else:
            pooled = F.adaptive_avg_pool2d(feat, (num_stripes, 1)).flatten(2)
        return pooled.transpose(1, 2)

    def forward(self, feats: Sequence[torch.Tensor],
                num_frames: int) -> List[torch.Tensor]:
        """Pool and project every block.

        Args:
            feats (Sequence[Tensor]): One (B*T, C_i, H_i, W_i) map per block,
                in the order of ``in_channels``.
            num_frames (int): Frames per clip ``T``.

        Returns:
            list[Tensor]: One (B, T, N_i, embed_dims) token tensor per block.
        """
        if len(feats) != len(self.in_channels):
            raise ValueError(
                f'PPool: got {len(feats)} feature maps but `in_channels` '
                f'lists {len(self.in_channels)} blocks.')
        tokens = []
        for i, feat in enumerate(feats):
            if feat.size(0) % num_frames:
                raise ValueError(
                    f'PPool: batch dim {feat.size(0)} of block {i} is not a '
                    f'multiple of num_frames={num_frames}.')
            tok = self.projs[i](self.pool(feat, i))
            tokens.append(tok.view(-1, num_frames, *tok.shape[1:]))
        return tokens
