# DenseIL on MARS with an ImageNet ConvNeXt-T encoder. ConvNeXt downsamples
# by 32 (256x128 -> 8x4 last map, enough for 4 stripes).
_base_ = ['../../../configs/denseil/denseil_r50_mars.py']

channels = [96, 192, 384, 768]

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=(0, 1, 2, 3),
        # Keep the normalized (B, C, H, W) maps instead of pooled vectors.
        gap_before_final_norm=False,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'convnext/convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth',
            prefix='backbone.')),
    neck=dict(in_channels=channels))
