# DenseIL's two stages in one schedule [interpretation: hyper-parameters of
# the common recipe of the period]. Epochs [0, 150) train the encoder as the
# baseline (the stage-1 recipe of reid_adam_150e.py), epochs [150, 210) the
# DI decoder on the frozen encoder, with its own warm-up from the base lr
# and decay (milestones count from the stage start).
_base_ = ['./reid_adam_150e.py']

# [interpretation] "stage 2 may use a shorter schedule".
param_scheduler = dict(
    stages=dict(stage2=dict(epochs=60, warmup_epochs=5, milestones=[30, 50])))
train_cfg = dict(max_epochs=210)  # 150 + 60

# The stage switch reads stage 1's length from param_scheduler.stages (the
# general hooks are named entries of default_hooks, default_runtime.py).
custom_hooks = [dict(type='TwoStageTrainingHook')]

# Each stage leaves one branch without gradients.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
