# DenseIL with a small Vision Transformer on the synthetic demo data, both
# stages on a 2-core CPU: denseil_r18_demo.py (data, pipeline, schedule)
# with mmpretrain's VisionTransformer instead of the slim ResNet-18, trained
# from scratch. "tiny" here: 4 layers of width 96 (3 heads); at 64x32 the
# 8x8 patches form an 8x4 grid, and every layer's patch-token map feeds the
# DI decoder (4 stripes of 2 rows each).
_base_ = ['./denseil_r18_demo.py']

vit_dims = 96

model = dict(
    channels_last=False,  # only the patch embedding is a convolution
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch=dict(
            embed_dims=vit_dims,
            num_layers=4,
            num_heads=3,
            feedforward_channels=4 * vit_dims),
        img_size=(64, 32),
        patch_size=8,
        out_indices=(0, 1, 2, 3),
        out_type='featmap',
        init_cfg=None),
    neck=dict(in_channels=[vit_dims] * 4, num_stripes=4))
