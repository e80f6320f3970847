# DenseIL's two stages with a ViT encoder in one schedule: epochs [0, 120)
# train the encoder as the baseline (reid-vit_adamw_120e.py), epochs
# [120, 180) the DI decoder on the frozen encoder. The decoder's parameters
# sit at the top depth of the layer-wise decay, i.e. they get the base lr.
_base_ = ['./reid-vit_adamw_120e.py']

stage1_epochs = _base_.max_epochs
stage2_epochs = 60  # [interpretation] "stage 2 may use a shorter schedule"
warmup_epochs = 5

train_cfg = dict(max_epochs=stage1_epochs + stage2_epochs)
# At the switch TwoStageTrainingHook resets every param group's lr to its
# initial (layer-decayed) lr; the stage-2 entries warm up and decay it again.
param_scheduler = _base_.param_scheduler + [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=stage1_epochs,
        end=stage1_epochs + warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=0.01,
        by_epoch=True,
        begin=stage1_epochs + warmup_epochs,
        end=stage1_epochs + stage2_epochs,
        convert_to_iter_based=True),
]

# The general hooks are named entries of default_hooks (default_runtime.py).
custom_hooks = [dict(type='TwoStageTrainingHook', stage1_epochs=stage1_epochs)]

# Each stage leaves one branch without gradients.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
