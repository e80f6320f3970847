# Synthetic data in the MARS layout, at 64x32: the MARS loaders with the
# synthetic data and a CPU-sized pipeline. `SyntheticMARS` writes the data
# to `data_root` first when that folder is missing or empty and reads any
# other MARS-layout folder as it is. To write it yourself:
#   python tools/dataset_converters/make_synthetic_mars.py data/synthetic_mars
_base_ = ['./mars.py']

dataset_type = 'SyntheticMARS'
data_root = 'data/synthetic_mars'
# T=3 frames per clip (the paper's T=8 costs 2.7x as much); no random
# erasing: the CPU demo trains for a few minutes only.
clip_len = 3
train_pipeline = [
    dict(type='RestrictedRandomSample', clip_len=clip_len),
    dict(type='LoadFrames', scale=(32, 64)),
    dict(type='FrameRandomFlip', prob=0.5),
    dict(type='PackReIDInputs'),
]
test_pipeline = [
    dict(type='AllFramesSample', clip_len=clip_len),
    dict(type='LoadFrames', scale=(32, 64)),
    dict(type='PackReIDInputs', with_label=False),
]

train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline))
# Synthetic tracklets have 8-24 frames (2-6 chunks), so batches can be larger.
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
val_dataloader = test_dataloader
