_base_ = [
    '../_base_/models/denseil_r50.py', '../_base_/datasets/lsvid.py',
    '../_base_/schedules/denseil_adam_150e-60e.py',
    '../_base_/default_runtime.py'
]

# Full recipe: 210 epochs x ~114 iterations = ~23,940 iterations, ~17,100 of
# them in stage 1 (LS-VID: 842 train ids with 2,831 tracklets; estimated, see
# docs/benchmarks.md; 8 x 4 on one GPU).

# One command trains both stages: epochs [0, 150) the encoder as the
# baseline, then epochs [150, 210) the DI decoder on the frozen encoder.
# `--cfg-options model.encoder_checkpoint=<baseline_r50_lsvid ckpt>` skips
# stage 1; `model.two_stage=False` trains end to end instead.
model = dict(encoder_head=dict(num_classes=842), head=dict(num_classes=842))
