# Stage-1 baseline with a ViT-B/16 encoder: mmpretrain's VisionTransformer
# (ImageNet-21k pre-trained, ImageNet-1k fine-tuned at 384 px, as mmpretrain
# publishes it) applied per frame, temporal average pooling of the last
# layer's patch tokens, BNNeck head with CE (label smoothing) + triplet.
# At 256x128 the 16x16 patches form a 16x8 grid; mmpretrain resizes the
# checkpoint's 24x24 position embeddings to it (bicubic) when loading.
model = dict(
    type='VideoReID',
    # The checkpoint's normalisation (mmpretrain's vit-base-p16 384px
    # config): pixels to [-1, 1].
    data_preprocessor=dict(
        type='ReIDDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5]),
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='b',
        img_size=(256, 128),
        patch_size=16,
        # Overlapping patches as TransReID: patch_cfg=dict(stride=12,
        # padding=0) gives a 21x10 grid (the position embeddings follow).
        patch_cfg=dict(),
        out_indices=(11, ),
        out_type='featmap',  # (N, 768, 16, 8) patch-token maps
        drop_path_rate=0.1,  # [interpretation] TransReID's value
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_'
            '20210928-98e8652b.pth',
            prefix='backbone.')),
    neck=dict(type='TemporalAvgPool'),
    head=dict(
        type='BNNeckHead',
        in_channels=768,
        num_classes=625,
        loss_ce=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet=dict(type='TripletLoss', margin=0.3)),
    clips_per_forward=64)
