_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/prid2011.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
]

# Full recipe: 150 epochs x 11 iterations = 1,650 iterations (PRID-2011: 89
# train ids per split with 2 tracklets each, i.e. one group of 4 per id, at
# 8 x 4 on one GPU).
model = dict(head=dict(num_classes=89))
