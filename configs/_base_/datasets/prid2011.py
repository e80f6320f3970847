# PRID-2011 multi-shot (original layout + splits_prid2011.json, see
# docs/dataset_prepare.md): the iLIDS-VID settings (MARS pipelines and
# loaders, `split_id`, one of ten splits; tools/multi_split.py runs all ten)
# with another dataset. Users only change `data_root`,
# e.g. --cfg-options train_dataloader.dataset.data_root=...
_base_ = ['./ilidsvid.py']

dataset_type = 'PRID2011'
data_root = 'data/prid2011'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# One tracklet per batch: PRID sequences have 5-675 frames.
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = test_dataloader
