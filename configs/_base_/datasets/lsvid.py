# LS-VID (original layout, see docs/dataset_prepare.md): the MARS pipelines
# and loaders with another dataset. Users only change `data_root`,
# e.g. --cfg-options train_dataloader.dataset.data_root=...
_base_ = ['./mars.py']

dataset_type = 'LSVID'
data_root = 'data/lsvid'
# False: the gallery is the test tracklets that are not queries (7,829, as
# the public PyTorch loaders and the papers using them); True: every test
# tracklet, queries included (the gallery of the authors' MATLAB kit, whose
# whole protocol also needs test_evaluator no_positive='zero',
# ap_mode='trapezoid' and distance='euclidean': docs/evaluation.md).
query_in_gallery = False

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# One tracklet per batch: LS-VID tracklets average ~200 frames.
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        query_in_gallery=query_in_gallery))
val_dataloader = test_dataloader
