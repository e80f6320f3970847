_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/lsvid.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=842))
