# Copyright (c) mmreid_video contributors. All rights reserved.
"""Temporal average pooling neck of the baseline."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

from mmreid_video.registry import MODELS


@MODELS.register_module()
class TemporalAvgPool(nn.Module):
    """Spatial global average pooling, then the mean over the clip's frames.

    The backbone runs on the ``B * T`` frames of ``B`` clips; this neck pools
    the last feature map of every frame to a vector and averages the ``T``
    frame vectors of each clip (the real ones, given ``frame_valid``) into
    one clip feature.

    Examples:
        >>> import torch
        >>> neck = TemporalAvgPool()
        >>> neck((torch.rand(2 * 8, 2048, 16, 8), ), num_frames=8).shape
        torch.Size([2, 2048])
    """

    def forward(self,
                feats: Union[Tuple[torch.Tensor, ...], torch.Tensor],
                num_frames: int,
                frame_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Pool frame feature maps into clip features.

        Args:
            feats (tuple[Tensor] | Tensor): Backbone feature maps of shape
                ``(B * T, C, h, w)``; of a tuple only the last one is used.
            num_frames (int): The number of frames ``T`` per clip.
            frame_valid (Tensor, optional): Bool mask ``(B, T)`` of the real
                frames; the mean then runs over them only (padded frames
                count zero). Defaults to None (every frame real).

        Returns:
            Tensor: Clip features of shape ``(B, C)``.
        """
        if isinstance(feats, tuple):
            feats = feats[-1]
        if not isinstance(feats, torch.Tensor) or feats.dim() != 4:
            raise TypeError('TemporalAvgPool expects a (B*T, C, h, w) tensor '
                            'or a tuple of them, got '
                            f'{getattr(feats, "shape", type(feats))}.')
        if num_frames < 1 or feats.size(0) % num_frames:
            raise ValueError(
                f'TemporalAvgPool: {feats.size(0)} frame features cannot be '
                f'grouped into clips of num_frames={num_frames}.')
        # view, not squeeze: a batch of one clip must keep its batch axis.
        frame_feats = feats.mean(dim=(2, 3)).view(-1, num_frames,
                                                  feats.size(1))
        if frame_valid is None:
            return frame_feats.mean(dim=1)
        if frame_valid.shape != frame_feats.shape[:2]:
            raise ValueError(
                f'TemporalAvgPool: frame_valid of shape '
                f'{tuple(frame_valid.shape)} for '
                f'{tuple(frame_feats.shape[:2])} (clips, frames).')
        valid = frame_valid.unsqueeze(-1)
        return frame_feats.masked_fill(
            ~valid, 0).sum(dim=1) / valid.sum(dim=1).to(frame_feats.dtype)
