_base_ = [
    '../_base_/models/baseline_vit-b16.py', '../_base_/datasets/mars.py',
    '../_base_/schedules/reid-vit_adamw_120e.py',
    '../_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=625))
