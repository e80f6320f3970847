# Copyright (c) mmreid_video contributors. All rights reserved.
"""STEP-Emb: spatio-temporal positional embedding of stripe tokens."""
import math

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmreid_video.registry import MODELS


def sinusoid_table(length: int, dims: int) -> torch.Tensor:
    """Fixed sine/cosine table of shape (length, dims) (Vaswani et al.)."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(
        torch.arange(0, dims, 2, dtype=torch.float32) *
        (-math.log(10000.0) / dims))
    table = torch.zeros(length, dims)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[:dims // 2])
    return table


@MODELS.register_module()
class STEPEmbedding(BaseModule):
    """Factorised frame + stripe + block embedding added to tokens.

    ``tokens[b, t, n] += E_frame[t] + E_stripe[n] + E_block[block]``. The three
    tables are either learned (``nn.Parameter``, truncated-normal init) or the
    fixed sinusoidal tables of the vanilla Transformer.

    Args:
        embed_dims (int): Token width ``d`` (even for ``'sinusoidal'``).
        max_frames (int): Largest clip length T supported. Defaults to 32.
        max_stripes (int): Largest number of stripes N. Defaults to 16.
        max_blocks (int): Largest number of blocks. Defaults to 4.
        mode (str): ``'learned'`` or ``'sinusoidal'``. Defaults to
            ``'learned'``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    MODES = ('learned', 'sinusoidal')

    def __init__(self,
                 embed_dims: int,
                 max_frames: int = 32,
                 max_stripes: int = 16,
                 max_blocks: int = 4,
                 mode: str = 'learned',
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in self.MODES:
            raise ValueError(f'STEPEmbedding: `mode` must be one of '
                             f'{self.MODES}, got {mode!r}.')
        if mode == 'sinusoidal' and embed_dims % 2:
            raise ValueError('STEPEmbedding: sinusoidal mode needs an even '
                             f'`embed_dims`, got {embed_dims}.')
        self.embed_dims = embed_dims
        self.mode = mode
        self.limits = dict(
            frame=max_frames, stripe=max_stripes, block=max_blocks)
        for name, length in self.limits.items():
            if mode == 'learned':
                # Initialised here, so a decoder built without
                # ``init_weights()`` (tests, tools) already has distinct
                # positions.
                table = nn.Parameter(torch.empty(length, embed_dims))
                trunc_normal_(table, std=0.02)
                self.register_parameter(f'{name}_embed', table)
            else:
                self.register_buffer(
                    f'{name}_embed',
                    sinusoid_table(length, embed_dims),
                    persistent=False)

    def _check(self, name: str, value: int) -> None:
        if value > self.limits[name]:
            raise ValueError(
                f'STEPEmbedding: {name} count/index {value} exceeds '
                f'max_{name}s={self.limits[name]}; raise `max_{name}s` in '
                'the neck config.')

    def forward(self, tokens: torch.Tensor, block: int) -> torch.Tensor:
        """Add the embedding.

        Args:
            tokens (Tensor): (B, T, N, d) tokens of one block.
            block (int): Index of the block the tokens come from.

        Returns:
            Tensor: Tokens plus embedding, same shape.
        """
        if tokens.dim() != 4 or tokens.size(-1) != self.embed_dims:
            raise ValueError(
                f'STEPEmbedding: expects (B, T, N, {self.embed_dims}) '
                f'tokens, got shape {tuple(tokens.shape)}.')
        _, num_frames, num_stripes, _ = tokens.shape
        self._check('frame', num_frames)
        self._check('stripe', num_stripes)
        self._check('block', block + 1)
        pos = (
            self.frame_embed[:num_frames, None] +
            self.stripe_embed[None, :num_stripes] + self.block_embed[block])
        return tokens + pos.to(tokens.dtype)
