# DenseIL on MARS with an ImageNet ResNet-101 encoder. ResNet-101 has the
# block widths of ResNet-50, so only the depth and the weights change.
_base_ = ['../../../configs/denseil/denseil_r50_mars.py']

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet101_8xb32_in1k_20210831-539c63f8.pth',
            prefix='backbone.')))
