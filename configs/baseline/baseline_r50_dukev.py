_base_ = [
    '../_base_/models/baseline_r50.py', '../_base_/datasets/dukev.py',
    '../_base_/schedules/reid_adam_150e.py', '../_base_/default_runtime.py'
]

# Full recipe: 150 epochs x ~87 iterations = ~13,050 iterations (DukeMTMC-
# VideoReID: 702 train ids with 2,196 tracklets, one group of 4 per id
# unless it has 8 or more; estimated, see docs/benchmarks.md; 8 x 4 on one
# GPU).
model = dict(head=dict(num_classes=702))
