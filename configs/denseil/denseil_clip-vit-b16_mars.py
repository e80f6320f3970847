# denseil_vit-b16_mars.py with CLIP's ViT-B/16 image encoder (see
# ../_base_/models/clip-vit-b16.py).
_base_ = ['./denseil_vit-b16_mars.py', '../_base_/models/clip-vit-b16.py']

model = _base_.clip_model
optim_wrapper = _base_.clip_optim_wrapper
