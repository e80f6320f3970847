_base_ = './denseil_r50_mars.py'

# Full recipe: 210 epochs x 235 iterations = 49,350 iterations, 35,250 of them
# in stage 1 (MARS: every group of 4 tracklets of the 625 train ids once per
# epoch, at 8 x 4 on one GPU).

# Ablation: no STEP-Emb (the descriptor becomes invariant to the order of
# frames and stripes).
model = dict(neck=dict(use_step_emb=False))
