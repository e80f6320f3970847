_base_ = './denseil_r50_mars.py'

# Full recipe: 210 epochs x 78 iterations = 16,380 iterations, 11,700 of them
# in stage 1 (MARS: 625 train ids, each once per epoch, at 8 x 4 on one GPU).

# Ablation: no STEP-Emb (the descriptor becomes invariant to the order of
# frames and stripes).
model = dict(neck=dict(use_step_emb=False))
