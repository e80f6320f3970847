# DenseIL's two stages in one schedule [interpretation: hyper-parameters of
# the common recipe of the period]. Epochs [0, 150) train the encoder as the
# baseline (the stage-1 recipe of reid_adam_150e.py), epochs [150, 210) the
# DI decoder on the frozen encoder.
_base_ = ['./reid_adam_150e.py']

stage1_epochs = 150
stage2_epochs = 60  # [interpretation] "stage 2 may use a shorter schedule"

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

# reid_adam_150e.py's hooks plus the stage switch.
# reid_adam_150e.py's hooks plus the stage switch.
custom_hooks = [
    dict(type='EpochReseedHook'),
    dict(type='CheckInvalidLossHook'),
    dict(type='CheckNumClassesHook'),
    dict(type='TwoStageTrainingHook', stage1_epochs=stage1_epochs),
]

# Each stage leaves one branch without gradients.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
