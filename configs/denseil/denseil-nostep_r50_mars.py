_base_ = './denseil_r50_mars.py'

# Ablation: no STEP-Emb (the descriptor becomes invariant to the order of
# frames and stripes).
model = dict(neck=dict(use_step_emb=False))
