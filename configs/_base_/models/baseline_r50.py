# Stage-1 baseline: ImageNet ResNet-50 (last stride 1) applied per frame,
# temporal average pooling, BNNeck head with CE (label smoothing) + triplet.
model = dict(
    type='VideoReID',
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        strides=(1, 2, 2, 1),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone.')),
    neck=dict(type='TemporalAvgPool'),
    head=dict(
        type='BNNeckHead',
        in_channels=2048,
        num_classes=625,
        loss_ce=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet=dict(type='TripletLoss', margin=0.3)),
    clips_per_forward=64)
