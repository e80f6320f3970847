_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/mars.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
]

# Full recipe: 150 epochs x 235 iterations = 35,250 iterations (MARS: every
# group of 4 tracklets of the 625 train ids once per epoch, at 8 x 4 on one
# GPU).
model = dict(head=dict(num_classes=625))
