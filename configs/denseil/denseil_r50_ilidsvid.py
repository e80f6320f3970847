_base_ = [
    '../_base_/models/denseil_r50.py', '../_base_/datasets/ilidsvid.py',
    '../_base_/schedules/denseil_adam_150e-60e.py',
    '../_base_/default_runtime.py'
]

# Full recipe: 210 epochs x 18 iterations = 3,780 iterations, 2,700 of them in
# stage 1 (iLIDS-VID: 150 train ids per split with 2 tracklets each, i.e. one
# group of 4 per id, at 8 x 4 on one GPU).

# One command trains both stages: epochs [0, 150) the encoder as the
# baseline, then epochs [150, 210) the DI decoder on the frozen encoder.
# `--cfg-options model.encoder_checkpoint=<baseline_r50_ilidsvid ckpt>` skips
# stage 1; `model.two_stage=False` trains end to end instead.
model = dict(encoder_head=dict(num_classes=150), head=dict(num_classes=150))
