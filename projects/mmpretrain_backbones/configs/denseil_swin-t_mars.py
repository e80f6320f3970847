# DenseIL on MARS with an ImageNet Swin-T encoder (window 7, like the
# checkpoint). 256x128 frames give 64x32 ... 8x4 stage maps: windows pad maps
# whose size is not a multiple of 7, and the 8x4 map, narrower than a window,
# needs `pad_small_map=True` (mmpretrain refuses it otherwise).
_base_ = ['../../../configs/denseil/denseil_r50_mars.py']

channels = [96, 192, 384, 768]

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformer',
        arch='tiny',
        img_size=(256, 128),
        window_size=7,
        out_indices=(0, 1, 2, 3),
        pad_small_map=True,
        drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'swin-transformer/'
            'swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth',
            prefix='backbone.')),
    neck=dict(in_channels=channels))
