# Baseline (stage 1) on the synthetic MARS-layout data: a slim ResNet-18
# (stage widths 24/48/96/192) from scratch at 64x32, trained and evaluated
# on a 2-core CPU in a few minutes. Channels-last makes its convolutions ~25 %
# faster on CPU (oneDNN). An epoch is 18 iterations (150 ids of 2-4
# tracklets, i.e. one group of 4 each, at 8 x 4).
_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/synthetic_mars.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
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

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(
    warmup_factor=0.1,
    stages=dict(stage1=dict(epochs=30, warmup_epochs=3, milestones=[20])))
train_cfg = dict(max_epochs=30, val_interval=10)

default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
