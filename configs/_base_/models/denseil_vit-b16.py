# DenseIL with a ViT-B/16 encoder (vit-b16.py), as denseil_r50.py otherwise:
# layers 3, 6, 9 and 12 return their patch-token maps (all 16x8 at 256x128)
# and the DI decoder's layer l attends to the tokens of layer 3 * (l + 1).
# [interpretation] "blocks" of a ViT are groups of 3 layers; 4 stripes per
# map, as for ResNet-50, so each decoder layer sees T * 4 = 32 tokens.
_base_ = ['./denseil_r50.py', './vit-b16.py']

model = dict(
    data_preprocessor=_base_.vit_preprocessor,
    backbone=dict(
        _delete_=True, out_indices=(2, 5, 8, 11), **_base_.vit_backbone),
    neck=dict(in_channels=[768, 768, 768, 768]))
