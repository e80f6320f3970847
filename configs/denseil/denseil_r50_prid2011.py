_base_ = [
    '../_base_/models/denseil_r50.py', '../_base_/datasets/prid2011.py',
    '../_base_/schedules/denseil_adam_150e-60e.py',
    '../_base_/default_runtime.py'
]

# One command trains both stages: epochs [0, 150) the encoder as the
# baseline, then epochs [150, 210) the DI decoder on the frozen encoder.
# `--cfg-options model.encoder_checkpoint=<baseline_r50_prid2011 ckpt>` skips
# stage 1; `model.two_stage=False` trains end to end instead.
model = dict(encoder_head=dict(num_classes=89), head=dict(num_classes=89))
