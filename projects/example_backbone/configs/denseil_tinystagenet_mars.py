# DenseIL on MARS with the example TinyStageNet backbone. Only the backbone
# dict and the DI decoder's per-block input channels change; everything else
# (data, two-stage schedule, runtime) is inherited.
_base_ = ['../../../configs/denseil/denseil_r50_mars.py']

# Imports the project package, which registers TinyStageNet into
# mmreid_video's MODELS. Needs the repository root on PYTHONPATH.
custom_imports = dict(
    imports=['projects.example_backbone.mmreid_example'],
    allow_failed_imports=False)

stage_channels = (64, 128, 256, 512)

model = dict(
    backbone=dict(
        # `_delete_` drops the ResNet-only keys (depth, style, init_cfg...).
        _delete_=True,
        type='TinyStageNet',
        stage_channels=stage_channels,
        strides=(1, 2, 2, 1),
        num_blocks=(1, 2, 2, 1),
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=list(stage_channels)))
