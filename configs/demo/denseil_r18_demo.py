# DenseIL on the synthetic demo data, both stages in one run on a 2-core
# CPU: stage 1 is the baseline demo (slim ResNet-18 + temporal average
# pooling), stage 2 trains the DI decoder on the frozen encoder.
_base_ = ['./baseline_r18_demo.py']

# Slim ResNet-18 stage widths [24, 48, 96, 192]; at 64x32 input the stage
# maps are 16/8/4/2 rows high, hence 2 stripes for the last one. The encoder
# head's in_channels follow the last entry of neck.in_channels.
model = dict(
    type='DenseIL',
    backbone=dict(out_indices=(0, 1, 2, 3)),
    encoder_neck=dict(type='TemporalAvgPool'),
    encoder_head=dict(
        type='BNNeckHead',
        num_classes=150,
        loss_ce=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1),
        loss_triplet=dict(type='TripletLoss', margin=0.3)),
    neck=dict(
        _delete_=True,
        type='DIDecoder',
        in_channels=[24, 48, 96, 192],
        num_stripes=[4, 4, 4, 2],
        embed_dims=128,
        num_heads=4,
        variant='dense'),
    head=dict(in_channels=128))

# Stage 1 is the baseline demo's 30 epochs; stage 2 adds 15.
param_scheduler = dict(
    stages=dict(stage2=dict(epochs=15, warmup_epochs=1, milestones=[10])))
train_cfg = dict(max_epochs=45, val_interval=15)
custom_hooks = [dict(type='TwoStageTrainingHook')]
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
