_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/lsvid.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
]

# Full recipe: 150 epochs x ~114 iterations = ~17,100 iterations (LS-VID: 842
# train ids with 2,831 tracklets; estimated, see docs/benchmarks.md; 8 x 4 on
# one GPU).
model = dict(head=dict(num_classes=842))
