# Stage-1 / baseline recipe [interpretation: the common recipe of the
# period]: Adam 3.5e-4, weight decay 5e-4, linear warm-up for 10 epochs,
# x0.1 at epochs 40/80/120, 150 epochs. P x K = 8 x 4 tracklets per GPU.
# An epoch uses every group of 4 tracklets of every training identity once
# (IdentitySampler epoch_mode='group', AP3D/TCLNet's RandomIdentitySampler):
# 235 iterations on MARS, 18 on iLIDS-VID, 11 on PRID-2011, about 87 on
# DukeMTMC-VideoReID and 114 on LS-VID at 8 x 4 on one GPU
# (docs/benchmarks.md).
# The constructor keeps frozen parameters (stage 2's encoder) out of every
# update, also from weight decay on zeroed gradients.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SkipFrozenOptimWrapperConstructor',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))

# One entry per stage; a child changes e.g. just
# `param_scheduler = dict(stages=dict(stage1=dict(milestones=[20])))`.
# train_cfg.max_epochs must be the sum of the stages' epochs (checked).
param_scheduler = dict(
    type='StagedMultiStepLR',
    convert_to_iter_based=True,  # per-iteration warm-up
    warmup_factor=0.01,
    gamma=0.1,
    stages=dict(
        stage1=dict(epochs=150, warmup_epochs=10, milestones=[40, 80, 120])))

train_cfg = dict(by_epoch=True, max_epochs=150, val_interval=50)
val_cfg = dict()
test_cfg = dict()

# `--auto-scale-lr` scales the lr by (GPUs x batch size) / base_batch_size.
auto_scale_lr = dict(base_batch_size=32, enable=False)
