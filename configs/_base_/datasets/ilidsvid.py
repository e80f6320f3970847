# iLIDS-VID (original layout, see docs/dataset_prepare.md): the MARS
# pipelines and loaders with another dataset. Users only change `data_root`,
# e.g. --cfg-options train_dataloader.dataset.data_root=...
_base_ = ['./mars.py']

dataset_type = 'iLIDSVID'
data_root = 'data/ilidsvid'
# One of the ten train/test splits; tools/multi_split.py runs all ten.
split_id = 0

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split_id=split_id))
# One tracklet per batch: iLIDS sequences have 23-192 frames.
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split_id=split_id))
val_dataloader = test_dataloader
