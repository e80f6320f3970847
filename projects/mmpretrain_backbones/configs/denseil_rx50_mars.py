# DenseIL on MARS with an ImageNet ResNeXt-50 (32x4d) encoder; its block
# widths are those of ResNet-50, so the DI decoder is unchanged.
_base_ = ['../../../configs/denseil/denseil_r50_mars.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNeXt',
        depth=50,
        groups=32,
        width_per_group=4,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),  # last stride 1, as for the ResNet-50 encoder
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnext/resnext50_32x4d_b32x8_imagenet_20210429-56066e27.pth',
            prefix='backbone.')))
