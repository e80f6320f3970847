# denseil_vit-b16_mars.py with CLIP's ViT-B/16 image encoder (OpenAI CLIP
# pre-training, ImageNet-1k fine-tuned; converted from timm and published by
# mmpretrain as vit-base-p16_clip-openai-pre_3rdparty_in1k): pre-norm
# before the first layer, CLIP's pixel normalisation, and a stronger
# layer-wise lr decay [interpretation] to keep the CLIP features.
_base_ = ['./denseil_vit-b16_mars.py']

clip_checkpoint = ('https://download.openmmlab.com/mmclassification/v0/clip/'
                   'clip-vit-base-p16_openai-pre_3rdparty_in1k_'
                   '20221220-c7d9c899.pth')

model = dict(
    data_preprocessor=dict(
        mean=[122.771, 116.746, 104.094], std=[68.501, 66.632, 70.323]),
    backbone=dict(pre_norm=True, init_cfg=dict(checkpoint=clip_checkpoint)))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
