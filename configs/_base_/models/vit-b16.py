# The ViT-B/16 encoder of the ViT configs, merged into baseline_r50.py /
# denseil_r50.py by baseline_vit-b16.py / denseil_vit-b16.py: mmpretrain's
# VisionTransformer (ImageNet-21k pre-trained, ImageNet-1k fine-tuned at 384
# px, as mmpretrain publishes it) applied per frame, returning patch-token
# maps. At 256x128 the 16x16 patches form a 16x8 grid; mmpretrain resizes
# the checkpoint's 24x24 position embeddings to it (bicubic) when loading.
vit_backbone = dict(
    type='mmpretrain.VisionTransformer',
    arch='b',
    img_size=(256, 128),
    patch_size=16,
    # Overlapping patches as TransReID: patch_cfg=dict(stride=12,
    # padding=0) gives a 21x10 grid (the position embeddings follow).
    patch_cfg=dict(),
    out_type='featmap',  # (N, 768, 16, 8) patch-token maps
    drop_path_rate=0.1,  # [interpretation] TransReID's value
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmclassification/v0/vit/'
        'finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_'
        '20210928-98e8652b.pth',
        prefix='backbone.'))
# The checkpoint's normalisation (mmpretrain's vit-base-p16 384px config):
# pixels to [-1, 1].
vit_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])
