# The synthetic demo dataset (MARS layout, read by `MARS`), at 64x32.
# `DemoMARS` writes it to `data_root` first when it is missing.
# Create it with `python tools/dataset_converters/make_demo_dataset.py
# data/demo_mars` or `mmreid_video.datasets.ensure_demo_dataset`.
dataset_type = 'DemoMARS'
data_root = 'data/demo_mars'

# No random erasing: the CPU demo trains for a few minutes only.
train_pipeline = [
    dict(type='RestrictedRandomSample', clip_len=8),
    dict(type='LoadFrames', scale=(32, 64)),
    dict(type='FrameRandomFlip', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='AllFramesSample', clip_len=8),
    dict(type='LoadFrames', scale=(32, 64)),
    dict(type='PackReIDInputs', with_label=False),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    # Fresh workers each epoch, seeded from (seed, epoch) with
    # EpochReseedHook, keep --resume exact.
    persistent_workers=False,
    worker_init_fn=dict(type='mmreid_video.epoch_worker_init_fn'),
    # Train clips have equal shapes: stack them in the worker.
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='IdentitySampler', num_ids=8, num_instances=4),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))

# Demo tracklets have 8-24 frames (1-3 chunks), so batches can be larger.
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline))
val_dataloader = test_dataloader

val_evaluator = dict(type='VideoReIDMetric')
test_evaluator = val_evaluator
