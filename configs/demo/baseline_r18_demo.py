# Baseline (stage 1) on the synthetic MARS-layout data: a slim ResNet-18
# (stage widths 24/48/96/192) from scratch at 64x32, trained and evaluated
# on a 2-core CPU in a few minutes. Channels-last makes its convolutions ~25 %
# faster on CPU (oneDNN).
_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/synthetic_mars.py',
    '../_base_/default_runtime.py'
]

model = dict(
    channels_last=True,
    backbone=dict(
        depth=18,
        stem_channels=24,
        base_channels=24,
        strides=(1, 2, 2, 2),
        init_cfg=None),
    head=dict(in_channels=192, num_classes=150))

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=5e-4))
max_epochs = 30
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        milestones=[20],
        gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
custom_hooks = [
    dict(type='EpochReseedHook'),
    dict(type='CheckInvalidLossHook'),
    dict(type='CheckNumClassesHook'),
]
