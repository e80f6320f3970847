# Copyright (c) mmreid_video contributors. All rights reserved.
"""Tiny model configs shared by tests (mmpretrain's ``DEFAULT_ARGS``
pattern): ResNet-18 with random init (no download), small enough for CPU.

Import them from here: several test folders have a conftest module, so
``tests/conftest.py`` cannot be imported by name.
"""
from typing import Optional


def tiny_resnet18_cfg(**overrides) -> dict:
    """An ``mmpretrain.ResNet`` depth 18, last stage at stride 1."""
    return dict(
        dict(
            type='mmpretrain.ResNet',
            depth=18,
            out_indices=(3, ),
            strides=(1, 2, 2, 1)), **overrides)


def tiny_video_reid_cfg(num_classes: int = 4,
                        backbone: Optional[dict] = None,
                        **kwargs) -> dict:
    """A ``VideoReID`` baseline: ResNet-18, temporal average, BNNeck head.

    Args:
        num_classes (int): Identities of the head. Defaults to 4.
        backbone (dict, optional): Overrides of :func:`tiny_resnet18_cfg`;
            the head's width follows ``base_channels``.
        **kwargs: Further ``VideoReID`` arguments.

    Returns:
        dict: A fresh config, safe to modify.
    """
    backbone = tiny_resnet18_cfg(**(backbone or {}))
    width = backbone.get('base_channels', 64) * 8
    return dict(
        type='VideoReID',
        backbone=backbone,
        neck=dict(type='TemporalAvgPool'),
        head=dict(
            type='BNNeckHead', in_channels=width, num_classes=num_classes),
        **kwargs)


def tiny_denseil_cfg(num_classes: int = 4,
                     neck: Optional[dict] = None,
                     base_channels: int = 64,
                     **kwargs) -> dict:
    """A ``DenseIL``: ResNet-18 (all four stages), a 2-stripe ``DIDecoder``.

    Args:
        num_classes (int): Identities of both heads. Defaults to 4.
        neck (dict, optional): Overrides of the ``DIDecoder`` (32 dims,
            2 heads); the decoder head's width follows ``embed_dims``.
        base_channels (int): Width of the ResNet's stem and first stage
            (the stages are 1, 2, 4, 8 times it); 8 makes
            weights of ~1 MB instead of ~45 MB. Defaults to 64.
        **kwargs: Further ``DenseIL`` arguments (e.g. ``two_stage``).

    Returns:
        dict: A fresh config, safe to modify.
    """
    widths = [base_channels * m for m in (1, 2, 4, 8)]
    neck = dict(
        dict(
            type='DIDecoder',
            in_channels=widths,
            num_stripes=2,
            embed_dims=32,
            num_heads=2), **(neck or {}))
    return dict(
        type='DenseIL',
        backbone=tiny_resnet18_cfg(
            out_indices=(0, 1, 2, 3),
            stem_channels=base_channels,
            base_channels=base_channels),
        neck=neck,
        head=dict(
            type='BNNeckHead',
            in_channels=neck['embed_dims'],
            num_classes=num_classes),
        encoder_head=dict(
            type='BNNeckHead', in_channels=widths[-1],
            num_classes=num_classes),
        **kwargs)
