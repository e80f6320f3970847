default_scope = 'mmreid_video'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keep the latest checkpoint and the best by mAP. 'atomic_local' writes
    # each checkpoint to a temp file and renames it, so a killed job never
    # leaves a truncated checkpoint behind; SafeCheckpointHook writes a new
    # best checkpoint before removing the old one and refuses to load the
    # weights of another model (see allow_partial_load below).
    checkpoint=dict(
        type='SafeCheckpointHook',
        interval=10,
        max_keep_ckpts=3,
        save_best='reid/mAP',
        rule='greater',
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Fail, naming the sample, when loading one sample takes longer than
    # `timeout` seconds (a hung mount or decoder); None switches it off.
    sample_timeout=dict(type='SampleTimeoutHook', timeout=300),
    # Our hooks are named entries here (MMEngine registers extra names of
    # default_hooks too), so a config adds its own with custom_hooks, or
    # tunes/removes (None) one of these by name, without restating a list.
    # Each epoch's randomness depends on (seed, epoch) only: exact --resume.
    epoch_reseed=dict(type='EpochReseedHook'),
    # Stop on NaN/inf losses, naming the iteration.
    check_invalid_loss=dict(type='CheckInvalidLossHook'),
    # Fail early when head.num_classes < the training identities.
    check_num_classes=dict(type='CheckNumClassesHook'),
    # Fail early when an IdentitySampler's batches are not P x K.
    check_identity_batch=dict(type='CheckIdentityBatchHook'),
    # Refuse evaluation settings that cannot fit the test set (e.g.
    # re-ranking k1 >= Q + G) before the run; name each metric's protocol
    # in the log line and the test json log.
    eval_protocol=dict(type='EvalProtocolHook'),
)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

# Add dict(type='TensorboardVisBackend') to log to TensorBoard as well
# (pip install tensorboard).
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ReIDVisualizer', vis_backends=vis_backends)

log_processor = dict(by_epoch=True, window_size=20)
log_level = 'INFO'

load_from = None
resume = False
# A checkpoint whose weights do not fit the model (missing, unexpected or
# reshaped keys) is an error; True loads only the matching weights.
allow_partial_load = False

randomness = dict(seed=0, deterministic=False)
