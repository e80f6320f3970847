_base_ = './denseil_r50_mars.py'

# Full recipe: 210 epochs x 235 iterations = 49,350 iterations, 35,250 of them
# in stage 1 (MARS: every group of 4 tracklets of the 625 train ids once per
# epoch, at 8 x 4 on one GPU).

# Ablation (supplement Fig. 1b): encoder-decoder attention with keys and
# values from the block tokens only (vanilla Transformer decoder).
model = dict(neck=dict(variant='vanilla'))
