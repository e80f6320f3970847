# Stage-1 / baseline recipe [interpretation: the common recipe of the
# period]: Adam 3.5e-4, weight decay 5e-4, linear warm-up for 10 epochs,
# x0.1 at epochs 40/80/120, 150 epochs. P x K = 8 x 4 tracklets per GPU.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3.5e-4, weight_decay=5e-4))

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
        end=150,
        milestones=[40, 80, 120],
        gamma=0.1),
]

train_cfg = dict(by_epoch=True, max_epochs=150, val_interval=50)
val_cfg = dict()
test_cfg = dict()

# `--auto-scale-lr` scales the lr by (GPUs x batch size) / base_batch_size.
auto_scale_lr = dict(base_batch_size=32, enable=False)

custom_hooks = [
    # Each epoch's randomness depends on (seed, epoch) only: exact --resume.
    dict(type='EpochReseedHook'),
    # Stop on NaN/inf losses, naming the iteration.
    dict(type='CheckInvalidLossHook'),
    # Fail early when head.num_classes < the training identities.
    dict(type='CheckNumClassesHook'),
]
