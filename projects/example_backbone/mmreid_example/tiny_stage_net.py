# Copyright (c) mmreid_video contributors. All rights reserved.
"""TinyStageNet: a compact multi-stage CNN backbone (example project)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

# Registering into mmreid_video's MODELS (not mmpretrain's) lets configs name
# the backbone without a scope prefix: `type='TinyStageNet'`.
from mmreid_video.registry import MODELS


class ResidualStage(nn.Module):
    """One stage: a strided 3x3 conv, then ``num_blocks`` residual 3x3 pairs.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv (1 or 2).
        num_blocks (int): Residual blocks after the first conv.
        norm_cfg (dict): Normalization layer config.
        act_cfg (dict): Activation layer config.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 num_blocks: int, norm_cfg: dict, act_cfg: dict) -> None:
        super().__init__()
        self.down = ConvModule(
            in_channels,
            out_channels,
            3,
            stride=stride,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                ConvModule(
                    out_channels,
                    out_channels,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg),
                ConvModule(
                    out_channels,
                    out_channels,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=None)) for _ in range(num_blocks))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)."""
        x = self.down(x)
        for block in self.blocks:
            x = self.act(x + block(x))
        return x


@MODELS.register_module()
class TinyStageNet(BaseModule):
    """A compact residual CNN whose stages feed DenseIL's DI decoder.

    A stride-4 stem (two strided 3x3 convs) is followed by one
    :class:`ResidualStage` per entry of ``stage_channels``. Like mmpretrain's
    ``ResNet`` it returns a tuple with the map of every stage listed in
    ``out_indices``, which is all the video re-ID models need.

    Args:
        stage_channels (Sequence[int]): Output channels of each stage.
            Defaults to ``(32, 64, 128, 256)``.
        strides (Sequence[int]): Stride of each stage; the default keeps the
            last stage at stride 16 overall (the re-ID "last stride 1").
            Defaults to ``(1, 2, 2, 1)``.
        num_blocks (int | Sequence[int]): Residual blocks per stage, one
            value for all stages or one per stage. Defaults to 1.
        stem_channels (int): Channels of the stem. Defaults to 32.
        out_indices (Sequence[int]): Stages whose maps are returned.
            Defaults to ``(0, 1, 2, 3)``.
        norm_cfg (dict): Normalization layer config.
            Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation layer config.
            Defaults to ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to Kaiming convs and unit BatchNorm.

    Examples:
        >>> import torch
        >>> net = TinyStageNet(stage_channels=(8, 16), strides=(1, 2),
        ...                    stem_channels=8, out_indices=(0, 1))
        >>> [tuple(f.shape) for f in net(torch.rand(2, 3, 64, 32))]
        [(2, 8, 16, 8), (2, 16, 8, 4)]
    """

    def __init__(
        self,
        stage_channels: Sequence[int] = (32, 64, 128, 256),
        strides: Sequence[int] = (1, 2, 2, 1),
        num_blocks: Union[int, Sequence[int]] = 1,
        stem_channels: int = 32,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='ReLU'),
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', val=1, layer='_BatchNorm')
        ]
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        num_stages = len(stage_channels)
        if len(strides) != num_stages:
            raise ValueError(
                f'TinyStageNet: `strides` has {len(strides)} entries but '
                f'`stage_channels` has {num_stages}; give one per stage.')
        if isinstance(num_blocks, int):
            num_blocks = [num_blocks] * num_stages
        if len(num_blocks) != num_stages:
            raise ValueError(
                f'TinyStageNet: `num_blocks` has {len(num_blocks)} entries '
                f'but `stage_channels` has {num_stages}; give one per stage.')
        if not out_indices or not all(0 <= i < num_stages
                                      for i in out_indices):
            raise ValueError(
                f'TinyStageNet: `out_indices`={tuple(out_indices)} must be '
                f'non-empty stage indices in 0..{num_stages - 1}.')
        self.out_indices = tuple(out_indices)
        self.stem = nn.Sequential(
            ConvModule(
                3,
                stem_channels,
                3,
                stride=2,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                stem_channels,
                stem_channels,
                3,
                stride=2,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg))
        in_channels = [stem_channels, *stage_channels[:-1]]
        self.stages = nn.ModuleList(
            ResidualStage(c_in, c_out, s, n, norm_cfg, act_cfg)
            for c_in, c_out, s, n in zip(in_channels, stage_channels, strides,
                                         num_blocks))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Compute the stage maps.

        Args:
            x (Tensor): Images of shape ``(N, 3, H, W)``.

        Returns:
            tuple[Tensor]: The maps of the stages in ``out_indices``, each
            ``(N, C_i, H_i, W_i)``.
        """
        x = self.stem(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
