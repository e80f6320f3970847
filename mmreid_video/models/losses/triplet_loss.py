# Copyright (c) mmreid_video contributors. All rights reserved.
"""Batch-hard triplet loss."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmreid_video.registry import MODELS


@MODELS.register_module()
class TripletLoss(nn.Module):
    """Batch-hard triplet loss on Euclidean distances.

    For every anchor the hardest positive (farthest sample of the same
    identity, the anchor itself excluded) and the hardest negative (closest
    sample of another identity) are mined inside the batch. The loss is
    ``relu(d_ap - d_an + margin)`` or, with ``margin=None``, the soft margin
    ``log(1 + exp(d_ap - d_an))``, averaged over the anchors.

    Anchors without any positive or any negative in the batch give no
    triplet and are left out of the average; a batch without a single valid
    anchor gives a zero loss that is still connected to the graph (so every
    DDP rank backpropagates through the same parameters). An identity
    sampler with ``num_instances >= 2`` and ``num_ids >= 2`` makes every
    anchor valid.

    Args:
        margin (float, optional): The margin of the hinge. ``None`` selects
            the soft margin. Defaults to 0.3.
        loss_weight (float): The weight of the loss. Defaults to 1.0.

    Examples:
        >>> import torch
        >>> loss = TripletLoss(margin=0.3)
        >>> feats = torch.tensor([[0., 0.], [1., 0.], [0., 2.], [0., 3.]])
        >>> loss(feats, torch.tensor([0, 0, 1, 1]))
        tensor(0.)
    """

    def __init__(self,
                 margin: Optional[float] = 0.3,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if margin is not None and margin < 0:
            raise ValueError(
                f'TripletLoss: margin must be >= 0 or None, got {margin}.')
        self.margin = margin
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Features of shape ``(N, D)``.
            labels (Tensor): Identity labels of shape ``(N, )``.

        Returns:
            Tensor: The scalar loss.
        """
        if feats.dim() != 2 or labels.shape != feats.shape[:1]:
            raise ValueError(
                'TripletLoss expects feats (N, D) and labels (N, ), got '
                f'{tuple(feats.shape)} and {tuple(labels.shape)}.')
        # Exact pairwise distances (no mm shortcut), so d(i, i) is exactly 0
        # and its gradient finite; autocast runs cdist in float32.
        dist = torch.cdist(
            feats, feats, compute_mode='donot_use_mm_for_euclid_dist')
        same = labels.view(-1, 1) == labels.view(1, -1)
        eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        pos_mask = same & ~eye
        neg_mask = ~same
        valid = pos_mask.any(dim=1) & neg_mask.any(dim=1)
        if not valid.any():
            return feats.sum() * 0.

        dist, pos_mask, neg_mask = dist[valid], pos_mask[valid], neg_mask[
            valid]
        d_ap = dist.masked_fill(~pos_mask, float('-inf')).amax(dim=1)
        d_an = dist.masked_fill(~neg_mask, float('inf')).amin(dim=1)
        if self.margin is None:
            loss = F.softplus(d_ap - d_an)
        else:
            loss = F.relu(d_ap - d_an + self.margin)
        return self.loss_weight * loss.mean()
