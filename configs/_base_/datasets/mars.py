# MARS (original layout, see docs/dataset_prepare.md). Users only change
# `data_root`, e.g. --cfg-options train_dataloader.dataset.data_root=...
dataset_type = 'MARS'
data_root = 'data/mars'

train_pipeline = [
    dict(type='RestrictedRandomSample', clip_len=8),
    dict(type='LoadFrames', scale=(128, 256)),
    dict(type='FrameRandomFlip', prob=0.5),
    dict(type='SequenceRandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]
# All frames in consecutive 8-frame chunks; descriptors are averaged.
test_pipeline = [
    dict(type='AllFramesSample', clip_len=8),
    dict(type='LoadFrames', scale=(128, 256)),
    dict(type='PackReIDInputs', with_label=False),
]

# P x K = 8 identities x 4 tracklets per GPU. An epoch uses every group of
# K tracklets of every identity once (AP3D's RandomIdentitySampler): 235
# iterations on MARS at 8 x 4 on one GPU.
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    # Fresh workers each epoch, seeded from (seed, epoch) with
    # EpochReseedHook, keep --resume exact.
    persistent_workers=False,
    worker_init_fn=dict(type='mmreid_video.epoch_worker_init_fn'),
    # Train clips have equal shapes: stack them in the worker.
    collate_fn=dict(type='default_collate'),
    sampler=dict(
        type='IdentitySampler', num_ids=8, num_instances=4,
        epoch_mode='group'),
    # Checks batch_size == num_ids x num_instances.
    batch_sampler=dict(type='IdentityBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))

# One tracklet per batch: a MARS tracklet has up to 920 frames.
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
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
