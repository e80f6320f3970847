# Copyright (c) mmreid_video contributors. All rights reserved.
"""DI decoder neck of DenseIL (and its 'vanilla' / 'self' ablations)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule

from mmreid_video.registry import MODELS
from .ppool import PPool
from .step_emb import STEPEmbedding


class SDPAttention(nn.Module):
    """Multi-head attention on ``F.scaled_dot_product_attention``.

    mmcv's ``MultiheadAttention`` calls ``nn.MultiheadAttention`` with the
    default ``need_weights=True``, which materialises the attention matrix
    instead of using SDPA; calling SDPA directly picks the fused (flash /
    memory-efficient) kernels in training and inference.

    Args:
        embed_dims (int): Token width ``d``.
        num_heads (int): Number of heads; must divide ``embed_dims``.
        attn_drop (float): Dropout on the attention weights (train only).
    """

    def __init__(self, embed_dims: int, num_heads: int,
                 attn_drop: float) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'DIDecoder: embed_dims={embed_dims} is not '
                             f'divisible by num_heads={num_heads}.')
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.q = nn.Linear(embed_dims, embed_dims)
        self.kv = nn.Linear(embed_dims, 2 * embed_dims)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self,
                query: torch.Tensor,
                key_value: torch.Tensor,
                key_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, Lq, d) queries attend to (B, Lk, d) keys/values; with
        ``key_valid`` (bool (B, Lk)) only to the keys marked True."""
        B, Lq, d = query.shape
        head_dims = d // self.num_heads
        q = self.q(query).view(B, Lq, self.num_heads, head_dims)
        kv = self.kv(key_value).view(B, -1, 2, self.num_heads, head_dims)
        k, v = kv.permute(2, 0, 3, 1, 4)
        # A bool mask: True = may be attended to; broadcast over heads and
        # queries.
        mask = None if key_valid is None else key_valid[:, None, None]
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k,
            v,
            attn_mask=mask,
            dropout_p=self.attn_drop if self.training else 0.)
        return self.proj(out.transpose(1, 2).reshape(B, Lq, d))


class DILayer(nn.Module):
    """One post-norm decoder layer: self-attn -> (second attn) -> FFN.

    Args:
        embed_dims (int): Token width ``d``.
        num_heads (int): Attention heads.
        ffn_channels (int): Hidden width of the FFN.
        variant (str): ``'dense'`` (keys/values = h ⊕ c), ``'vanilla'``
            (keys/values = c) or ``'self'`` (no second attention).
        dropout (float): Dropout on residual branches, FFN hidden units and
            attention weights.
        act_cfg (dict): FFN activation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, ffn_channels: int,
                 variant: str, dropout: float, act_cfg: dict) -> None:
        super().__init__()
        self.variant = variant
        self.self_attn = SDPAttention(embed_dims, num_heads, dropout)
        self.norm1 = nn.LayerNorm(embed_dims)
        if variant != 'self':
            self.cross_attn = SDPAttention(embed_dims, num_heads, dropout)
            self.norm2 = nn.LayerNorm(embed_dims)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, ffn_channels),
            build_activation_layer(act_cfg), nn.Dropout(dropout),
            nn.Linear(ffn_channels, embed_dims))
        self.norm3 = nn.LayerNorm(embed_dims)
        self.drop = nn.Dropout(dropout)

    def forward(self,
                h: torch.Tensor,
                c: Optional[torch.Tensor],
                h_valid: Optional[torch.Tensor] = None,
                c_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Update decoder tokens h (B, L, d) with block tokens c (B, M, d).

        ``h_valid`` (B, L) / ``c_valid`` (B, M), both given or both None,
        mark the tokens of real frames: only they serve as keys.
        """
        h = self.norm1(h + self.drop(self.self_attn(h, h, h_valid)))
        if self.variant == 'dense':
            # Dense Attention: keys/values span h ⊕ c_l (supplement Fig. 1c).
            kv = torch.cat([h, c], dim=1)
            kv_valid = None if h_valid is None else torch.cat(
                [h_valid, c_valid], dim=1)
            h = self.norm2(h + self.drop(self.cross_attn(h, kv, kv_valid)))
        elif self.variant == 'vanilla':
            h = self.norm2(h + self.drop(self.cross_attn(h, c, c_valid)))
        return self.norm3(h + self.drop(self.ffn(h)))


@MODELS.register_module()
class DIDecoder(BaseModule):
    """Dense Interaction decoder neck (DenseIL).

    Backbone blocks -> :class:`PPool` tokens (+ :class:`STEPEmbedding`) ->
    ``L`` decoder layers, layer ``l`` paired with block ``layer_blocks[l]`` ->
    spatial-temporal average -> clip descriptor ``(B, embed_dims)``.

    Two readings the paper leaves open are keys:

    - **Memory of a layer.** An entry of ``layer_blocks`` is one block index
      (the paired block's tokens ``c_l``, default) or a sequence of them,
      whose tokens are concatenated into ``c_l``: e.g. ``layer_blocks=[[0],
      [0, 1], [0, 1, 2], [0, 1, 2, 3]]`` lets layer ``l`` attend to blocks
      ``0..l``.
    - **Decoder input** ``h0``: the tokens of block ``input_block``. By
      default the first block of ``layer_blocks[0]`` (``'dense'`` /
      ``'vanilla'``) or the last block of ``layer_blocks[-1]`` (``'self'``:
      a Transformer encoder on that block, which then is the only block
      used).

    Args:
        in_channels (Sequence[int]): Channels of every backbone output, in
            order (e.g. ``[256, 512, 1024, 2048]`` for ResNet-50).
        num_stripes (int | Sequence[int]): Stripes per backbone output (one
            value for all, or one per entry of ``in_channels``). Defaults
            to 4.
        embed_dims (int): Decoder width ``d``. Defaults to 512.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_ratio (int): FFN hidden width is ``ffn_ratio * embed_dims``.
            Defaults to 4.
        layer_blocks (Sequence[int | Sequence[int]], optional): Backbone
            output index (or indices, concatenated) whose tokens each decoder
            layer attends to; its length is the depth ``L``. Defaults to
            None, one layer per backbone output in order.
        input_block (int, optional): Backbone output whose tokens are the
            decoder input ``h0``. Defaults to None (see above).
        variant (str): ``'dense'``, ``'vanilla'`` or ``'self'``. Defaults to
            ``'dense'``.
        dropout (float): Dropout probability. Defaults to 0.1.
        act_cfg (dict): FFN activation. Defaults to ``dict(type='ReLU')``.
        use_step_emb (bool): Add STEP-Emb to the tokens (False is the
            ``nostep`` ablation). Defaults to True.
        step_emb_cfg (dict): Extra :class:`STEPEmbedding` arguments
            (``mode``, ``max_frames``, ``max_stripes``). ``max_blocks`` is the
            number of backbone outputs. Defaults to ``dict(mode='learned')``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to truncated-normal Linear weights (std 0.02).
    """

    VARIANTS = ('dense', 'vanilla', 'self')

    def __init__(
        self,
        in_channels: Sequence[int],
        num_stripes: Union[int, Sequence[int]] = 4,
        embed_dims: int = 512,
        num_heads: int = 8,
        ffn_ratio: int = 4,
        layer_blocks: Optional[Sequence[Union[int, Sequence[int]]]] = None,
        input_block: Optional[int] = None,
        variant: str = 'dense',
        dropout: float = 0.1,
        act_cfg: dict = dict(type='ReLU'),
        use_step_emb: bool = True,
        step_emb_cfg: dict = dict(mode='learned'),
        init_cfg: Optional[Union[dict, List[dict]]] = dict(
            type='TruncNormal', layer='Linear', std=0.02, bias=0.)
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if variant not in self.VARIANTS:
            raise ValueError(f'DIDecoder: `variant` must be one of '
                             f'{self.VARIANTS}, got {variant!r}.')
        num_blocks = len(in_channels)
        if isinstance(num_stripes, int):
            num_stripes = [num_stripes] * num_blocks
        if len(num_stripes) != num_blocks:
            raise ValueError(
                f'DIDecoder: `num_stripes` has {len(num_stripes)} entries, '
                f'`in_channels` has {num_blocks}; give one per block.')
        if layer_blocks is None:
            layer_blocks = range(num_blocks)
        self.layer_blocks = list(layer_blocks)
        # Each layer's memory as a list of blocks.
        self.layer_memories = [[b] if isinstance(b, int) else list(b)
                               for b in self.layer_blocks]
        if not self.layer_memories or not all(
                mem and all(
                    isinstance(b, int) and 0 <= b < num_blocks for b in mem)
                for mem in self.layer_memories):
            raise ValueError(
                f'DIDecoder: `layer_blocks`={self.layer_blocks} must be a '
                'non-empty list of indices into in_channels (0..'
                f'{num_blocks - 1}), or of non-empty lists of them.')
        if input_block is None:
            input_block = (
                self.layer_memories[-1][-1]
                if variant == 'self' else self.layer_memories[0][0])
        if not isinstance(input_block, int) or not 0 <= input_block < \
                num_blocks:
            raise ValueError(
                f'DIDecoder: `input_block`={input_block!r} must be an index '
                f'into in_channels (0..{num_blocks - 1}).')
        self.in_channels = list(in_channels)
        self.variant = variant
        self.input_block = input_block
        self.used_blocks = ([input_block] if variant == 'self' else sorted(
            {input_block}.union(*self.layer_memories)))
        self.ppool = PPool(
            in_channels=[self.in_channels[i] for i in self.used_blocks],
            num_stripes=[num_stripes[i] for i in self.used_blocks],
            embed_dims=embed_dims)
        self.step_emb = STEPEmbedding(
            embed_dims, max_blocks=num_blocks, **
            step_emb_cfg) if use_step_emb else None
        self.layers = nn.ModuleList(
            DILayer(embed_dims, num_heads, ffn_ratio *
                    embed_dims, variant, dropout, act_cfg)
            for _ in self.layer_blocks)
        self.embed_dims = embed_dims

    def tokens(self, feats: Sequence[torch.Tensor],
               num_frames: int) -> Dict[int, torch.Tensor]:
        """Tokens (B, T*N_i, d) of every used backbone output, keyed by index.
        """
        if len(feats) != len(self.in_channels):
            raise ValueError(
                f'DIDecoder: the backbone returned {len(feats)} feature '
                f'maps but `in_channels` lists {len(self.in_channels)}; set '
                'the backbone `out_indices` to match.')
        pooled = self.ppool([feats[i] for i in self.used_blocks], num_frames)
        tokens = {}
        for block, tok in zip(self.used_blocks, pooled):
            if self.step_emb is not None:
                tok = self.step_emb(tok, block)
            tokens[block] = tok.flatten(1, 2)
        return tokens

    def forward(self,
                feats: Sequence[torch.Tensor],
                num_frames: int,
                frame_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decode a clip.

        Args:
            feats (Sequence[Tensor]): Backbone outputs, each (B*T, C, H, W).
            num_frames (int): Frames per clip ``T``.
            frame_valid (Tensor, optional): Bool mask (B, T) of the real
                frames. Tokens of padded frames are then no keys of any
                attention and left out of the final average, so the
                descriptor does not depend on them. Defaults to None (every
                frame real).

        Returns:
            Tensor: Clip descriptors (B, embed_dims) (pre-BN).
        """
        tokens = self.tokens(feats, num_frames)
        valid = None
        if frame_valid is not None:
            if frame_valid.shape != (feats[0].size(0) // num_frames,
                                     num_frames):
                raise ValueError(
                    f'DIDecoder: frame_valid of shape '
                    f'{tuple(frame_valid.shape)} for clips of '
                    f'{num_frames} frames and {feats[0].size(0)} frames in '
                    'all.')
            # Token order is (frame, stripe): repeat each frame's flag.
            valid = {
                b: frame_valid.repeat_interleave(t.size(1) // num_frames, 1)
                for b, t in tokens.items()
            }
        h = tokens[self.input_block]
        h_valid = None if valid is None else valid[self.input_block]
        for layer, memory in zip(self.layers, self.layer_memories):
            c = c_valid = None
            if self.variant != 'self':
                c = torch.cat([tokens[b] for b in memory], dim=1)
                if valid is not None:
                    c_valid = torch.cat([valid[b] for b in memory], dim=1)
            h = layer(h, c, h_valid, c_valid)
        # Spatial-temporal average over the T*N decoder tokens (real ones).
        if h_valid is None:
            return h.mean(dim=1)
        h_valid = h_valid.unsqueeze(-1)
        return h.masked_fill(~h_valid, 0).sum(dim=1) / h_valid.sum(dim=1).to(
            h.dtype)
