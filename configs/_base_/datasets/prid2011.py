# PRID-2011 multi-shot (original layout + splits_prid2011.json, see
# docs/dataset_prepare.md): the MARS pipelines and loaders with another
# dataset. Users only change `data_root`,
# e.g. --cfg-options train_dataloader.dataset.data_root=...
_base_ = ['./mars.py']

dataset_type = 'PRID2011'
data_root = 'data/prid2011'
# One of the ten 89/89 splits; tools/multi_split.py runs all ten.
split_id = 0

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split_id=split_id))
# One tracklet per batch: PRID sequences have 5-675 frames.
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split_id=split_id))
val_dataloader = test_dataloader
