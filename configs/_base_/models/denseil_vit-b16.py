# DenseIL with a ViT-B/16 encoder: the baseline_vit-b16.py encoder returns
# the patch-token maps of layers 3, 6, 9 and 12 (all 16x8 at 256x128), the
# DI decoder's layer l attends to the tokens of layer 3 * (l + 1).
# [interpretation] "blocks" of a ViT are groups of 3 layers; 4 stripes per
# map, as for ResNet-50, so each decoder layer sees T * 4 = 32 tokens.
_base_ = ['./baseline_vit-b16.py']

embed_dims = 512

model = dict(
    type='DenseIL',
    backbone=dict(out_indices=(2, 5, 8, 11)),
    # Stage 1 (encoder = the baseline): last map -> GAP -> mean over T.
    encoder_neck=dict(type='TemporalAvgPool'),
    # in_channels: the last of neck.in_channels.
    encoder_head=dict(
        type='BNNeckHead',
        num_classes=625,
        loss_ce=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet=dict(type='TripletLoss', margin=0.3)),
    # Stage 2: PPool -> STEP-Emb -> L=4 layers (layer l <-> output l).
    neck=dict(
        _delete_=True,
        type='DIDecoder',
        in_channels=[768, 768, 768, 768],
        num_stripes=4,
        embed_dims=embed_dims,
        num_heads=8,
        ffn_ratio=4,
        layer_blocks=(0, 1, 2, 3),
        variant='dense',
        dropout=0.1,
        use_step_emb=True,
        step_emb_cfg=dict(mode='learned', max_frames=32, max_stripes=16)),
    head=dict(in_channels=embed_dims),
    two_stage=True,
    encoder_checkpoint=None)
