# Copyright (c) mmreid_video contributors. All rights reserved.
"""Temporal average pooling neck of the baseline."""
from typing import Tuple, Union

import torch
import torch.nn as nn

from mmreid_video.registry import MODELS


@MODELS.register_module()
class TemporalAvgPool(nn.Module):
    """Spatial global average pooling, then the mean over the clip's frames.

    The backbone runs on the ``B * T`` frames of ``B`` clips; this neck pools
    the last feature map of every frame to a vector and averages the ``T``
    frame vectors of each clip into one clip feature.

    Examples:
        >>> import torch
        >>> neck = TemporalAvgPool()
        >>> neck((torch.rand(2 * 8, 2048, 16, 8), ), num_frames=8).shape
        torch.Size([2, 2048])
    """

    def forward(self, feats: Union[Tuple[torch.Tensor, ...], torch.Tensor],
                num_frames: int) -> torch.Tensor:
        """Pool frame feature maps into clip features.

        Args:
            feats (tuple[Tensor] | Tensor): Backbone feature maps of shape
                ``(B * T, C, h, w)``; of a tuple only the last one is used.
            num_frames (int): The number of frames ``T`` per clip.

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
        frame_feats = feats.mean(dim=(2, 3))
        # view, not squeeze: a batch of one clip must keep its batch axis.
        return frame_feats.view(-1, num_frames, feats.size(1)).mean(dim=1)
