# DukeMTMC-VideoReID (original layout, see docs/dataset_prepare.md): the MARS
# pipelines and loaders with another dataset. Users only change `data_root`,
# e.g. --cfg-options train_dataloader.dataset.data_root=...
_base_ = ['./mars.py']

dataset_type = 'DukeMTMCVideoReID'
data_root = 'data/dukev'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# One tracklet per batch: DukeV tracklets average 168 frames.
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = test_dataloader
