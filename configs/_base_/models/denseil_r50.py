# DenseIL with a ResNet-50 encoder (He et al., ICCV 2021).
# Stage 1 trains the encoder as the baseline (temporal average pooling +
# BNNeck); stage 2 freezes it and trains the DI decoder + its BNNeck.
# [interpretation] choices are config keys: stripes per block, the blocks
# paired with the decoder layers, width/heads/FFN, variant, STEP-Emb mode.
num_classes = 625  # train identities (MARS); dataset configs override
# Decoder width d: 512 keeps the DI decoder at ~2 % of the ResNet-50 FLOPs
# and within +10 % forward time per clip on CPU (benchmark_model.py). With
# --cfg-options change model.neck.embed_dims (the head follows it).
embed_dims = 512

model = dict(
    type='DenseIL',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),  # every block feeds the DI decoder
        strides=(1, 2, 2, 1),  # last stride 1 (re-ID custom)
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone.')),
    # Stage 1 (encoder = the baseline): last map -> GAP -> mean over T.
    encoder_neck=dict(type='TemporalAvgPool'),
    # in_channels: the last of neck.in_channels (the last block's width).
    encoder_head=dict(
        type='BNNeckHead',
        num_classes=num_classes,
        loss_ce=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet=dict(type='TripletLoss', margin=0.3)),
    # Stage 2: PPool -> STEP-Emb -> L=4 layers (layer l <-> ResNet stage l).
    neck=dict(
        type='DIDecoder',
        in_channels=[256, 512, 1024, 2048],
        num_stripes=4,  # per block: an int or a list of 4
        embed_dims=embed_dims,
        num_heads=8,
        ffn_ratio=4,
        layer_blocks=(0, 1, 2, 3),
        variant='dense',  # 'dense' | 'vanilla' | 'self'
        dropout=0.1,
        use_step_emb=True,
        # mode: 'learned' | 'sinusoidal'; T and N up to the maxima
        step_emb_cfg=dict(mode='learned', max_frames=32, max_stripes=16)),
    # in_channels: neck.embed_dims.
    head=dict(
        type='BNNeckHead',
        num_classes=num_classes,
        loss_ce=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet=dict(type='TripletLoss', margin=0.3)),
    two_stage=True,  # False: backbone + DI decoder end to end
    encoder_checkpoint=None,  # a stage-1 checkpoint skips stage 1
    clips_per_forward=64)
