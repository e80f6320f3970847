_base_ = './denseil_r50_mars.py'

# Ablation (supplement Fig. 1a): self-attention only, a Transformer
# encoder on the last block's tokens.
model = dict(neck=dict(variant='self'))
