# Copyright (c) mmreid_video contributors. All rights reserved.
"""BNNeck head: BN embedding for retrieval, linear classifier for training."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.structures import DataSample

from mmreid_video.registry import MODELS


@MODELS.register_module()
class BNNeckHead(BaseModule):
    """The BNNeck of "Bag of Tricks" re-ID.

    The pre-BN feature trains with the triplet loss; a BatchNorm1d whose bias
    is frozen at 0 gives the embedding used for retrieval
    (:meth:`pre_logits`), and a bias-free linear classifier on it trains
    with the (label-smoothed) cross entropy.

    Args:
        in_channels (int): The feature dimension ``D``.
        num_classes (int): The number of training identities.
        loss_ce (dict | nn.Module): The classification loss. Defaults to
            ``dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1)``.
        loss_triplet (dict | nn.Module): The metric loss on the pre-BN
            feature. Defaults to ``dict(type='TripletLoss', margin=0.3)``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to the BoT init: classifier weights from N(0, 0.001^2),
            BN weight 1 and bias 0.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        loss_ce: Union[dict, nn.Module] = dict(
            type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet: Union[dict,
                            nn.Module] = dict(type='TripletLoss', margin=0.3),
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(type='Normal', layer='Linear', std=0.001),
            dict(type='Constant', layer='BatchNorm1d', val=1.0, bias=0.0)
        ]
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels <= 0 or num_classes <= 0:
            raise ValueError(
                'BNNeckHead: in_channels and num_classes must be positive, '
                f'got in_channels={in_channels}, num_classes={num_classes}.')
        self.in_channels = in_channels
        self.num_classes = num_classes

        self.bn = nn.BatchNorm1d(in_channels)
        # The frozen zero shift keeps the BN feature centred, so the
        # triplet (pre-BN) and CE (post-BN) objectives do not fight.
        self.bn.bias.requires_grad_(False)
        self.classifier = nn.Linear(in_channels, num_classes, bias=False)

        self.loss_ce = loss_ce if isinstance(
            loss_ce, nn.Module) else MODELS.build(loss_ce)
        self.loss_triplet = loss_triplet if isinstance(
            loss_triplet, nn.Module) else MODELS.build(loss_triplet)

    def pre_logits(self, feats: torch.Tensor) -> torch.Tensor:
        """Return the BN feature, the inference descriptor.

        Args:
            feats (Tensor): Pre-BN features of shape ``(B, in_channels)``.

        Returns:
            Tensor: BN features of shape ``(B, in_channels)``.
        """
        if feats.dim() != 2 or feats.size(1) != self.in_channels:
            raise ValueError(
                f'BNNeckHead expects features (B, {self.in_channels}), got '
                f'{tuple(feats.shape)}; check head.in_channels.')
        return self.bn(feats)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Return classification logits of shape ``(B, num_classes)``."""
        return self.classifier(self.pre_logits(feats))

    def loss(self, feats: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Compute the CE and triplet losses and the training accuracy.

        Args:
            feats (Tensor): Pre-BN clip features of shape
                ``(B, in_channels)``.
            data_samples (list[DataSample]): ``B`` samples with
                ``gt_label`` set to the train identity label.

        Returns:
            dict[str, Tensor]: ``loss_ce``, ``loss_triplet`` and
            ``accuracy`` (top-1, in percent, logged only).
        """
        logits = self(feats)
        target = self._get_targets(data_samples, feats)
        with torch.no_grad():
            accuracy = Accuracy.calculate(logits.argmax(dim=1), target)
        return dict(
            loss_ce=self.loss_ce(logits, target),
            loss_triplet=self.loss_triplet(feats, target),
            accuracy=accuracy)

    def _get_targets(self, data_samples: List[DataSample],
                     feats: torch.Tensor) -> torch.Tensor:
        """Gather the labels and check them against ``num_classes``."""
        if len(data_samples) != feats.size(0):
            raise ValueError(
                f'BNNeckHead: {feats.size(0)} features but '
                f'{len(data_samples)} data samples; training expects one '
                'clip per sample.')
        if not all('gt_label' in s for s in data_samples):
            raise KeyError('BNNeckHead.loss needs `gt_label` on every data '
                           'sample (the train identity label).')
        target = torch.cat([s.gt_label for s in data_samples]).to(feats.device)
        if target.numel() != feats.size(0):
            raise ValueError('BNNeckHead: every data sample must carry '
                             f'exactly one label, got {target.numel()} '
                             f'labels for {feats.size(0)} samples.')
        if target.min() < 0 or target.max() >= self.num_classes:
            raise ValueError(
                f'BNNeckHead: labels must lie in [0, num_classes), got '
                f'num_classes={self.num_classes} and labels in '
                f'[{int(target.min())}, {int(target.max())}]; set '
                'model.head.num_classes to the number of train identities.')
        return target
