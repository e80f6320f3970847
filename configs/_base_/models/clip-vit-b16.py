# CLIP's ViT-B/16 image encoder for the ViT-B/16 configs, merged by the
# children (`model = _base_.clip_model`): OpenAI CLIP pre-training, then
# ImageNet-1k fine-tuning, converted from timm and published by mmpretrain
# as vit-base-p16_clip-openai-pre_3rdparty_in1k. CLIP normalises the tokens
# before the first layer (pre_norm) and uses its own pixel mean/std; a
# stronger layer-wise lr decay [interpretation] keeps the CLIP features.
clip_model = dict(
    data_preprocessor=dict(
        mean=[122.771, 116.746, 104.094], std=[68.501, 66.632, 70.323]),
    backbone=dict(
        pre_norm=True,
        init_cfg=dict(
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'clip/clip-vit-base-p16_openai-pre_3rdparty_in1k_'
            '20221220-c7d9c899.pth')))
clip_optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
