_base_ = [
    '../_base_/models/denseil_r50.py', '../_base_/datasets/dukev.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
]

# One command trains both stages: epochs [0, 150) the encoder as the
# baseline, then epochs [150, 210) the DI decoder on the frozen encoder.
# `--cfg-options model.encoder_checkpoint=<baseline_r50_dukev ckpt>` skips
# stage 1; `model.two_stage=False` trains end to end instead.
stage1_epochs = 150
stage2_epochs = 60  # [interpretation] "stage 2 may use a shorter schedule"

model = dict(encoder_head=dict(num_classes=702), head=dict(num_classes=702))

train_cfg = dict(max_epochs=stage1_epochs + stage2_epochs)
# Stage 1 is the baseline schedule; at the switch TwoStageTrainingHook resets
# the lr to the base lr and the stage-2 entries (begin=stage1_epochs; their
# milestones count from there) warm up and decay it again.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=stage1_epochs,
        milestones=[40, 80, 120],
        gamma=0.1),
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=stage1_epochs,
        end=stage1_epochs + 5,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=stage1_epochs,
        end=stage1_epochs + stage2_epochs,
        milestones=[30, 50],
        gamma=0.1),
]

custom_hooks = [
    dict(type='EpochReseedHook'),
    dict(type='CheckInvalidLossHook'),
    dict(type='CheckNumClassesHook'),
    dict(type='TwoStageTrainingHook', stage1_epochs=stage1_epochs),
]

# Each stage leaves one branch without gradients.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
