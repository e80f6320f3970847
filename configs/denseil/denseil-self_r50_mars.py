_base_ = './denseil_r50_mars.py'

# Full recipe: 210 epochs x 78 iterations = 16,380 iterations, 11,700 of them
# in stage 1 (MARS: 625 train ids, each once per epoch, at 8 x 4 on one GPU).

# Ablation (supplement Fig. 1a): self-attention only, a Transformer
# encoder on the last block's tokens.
model = dict(neck=dict(variant='self'))
