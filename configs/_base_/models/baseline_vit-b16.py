# Stage-1 baseline with a ViT-B/16 encoder (vit-b16.py): temporal average
# pooling of the last layer's patch tokens, BNNeck head with CE (label
# smoothing) + triplet, as baseline_r50.py.
_base_ = ['./baseline_r50.py', './vit-b16.py']

model = dict(
    data_preprocessor=_base_.vit_preprocessor,
    backbone=dict(_delete_=True, out_indices=(11, ), **_base_.vit_backbone),
    head=dict(in_channels=768))
