_base_ = './denseil_r50_mars.py'

# Ablation (supplement Fig. 1b): encoder-decoder attention with keys and
# values from the block tokens only (vanilla Transformer decoder).
model = dict(neck=dict(variant='vanilla'))
