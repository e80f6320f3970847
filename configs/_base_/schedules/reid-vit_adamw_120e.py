# Stage-1 / baseline recipe for ViT encoders [interpretation: the ViT
# fine-tuning practice of BEiT/MAE, with TransReID's 120 epochs and warm-up]:
# AdamW, lr 1e-4 for the heads and the top of the ViT, decayed by
# `layer_decay_rate` per layer towards the patch embedding (mmpretrain's
# LearningRateDecayOptimWrapperConstructor over the model's
# get_layer_depth), no weight decay on norms, biases and embedding tables;
# 5 warm-up epochs, then cosine decay. P x K = 8 x 4 tracklets per GPU.
# Evaluation and `auto_scale_lr` come from reid_adam_150e.py.
_base_ = ['./reid_adam_150e.py']

max_epochs = 120
warmup_epochs = 5

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # Layer-wise lr decay; frozen parameters (stage 2) are never updated.
    constructor='SkipFrozenOptimWrapperConstructor',
    base_constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.75,
        norm_decay_mult=0.,
        flat_decay_mult=0.,
        custom_keys={
            '.cls_token': dict(decay_mult=0.),
            '.pos_embed': dict(decay_mult=0.),
            '.camera_embed': dict(decay_mult=0.),
            '.step_emb.': dict(decay_mult=0.),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=0.01,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]

train_cfg = dict(max_epochs=max_epochs, val_interval=40)
