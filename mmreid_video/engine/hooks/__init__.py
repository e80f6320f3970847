# Copyright (c) mmreid_video contributors. All rights reserved.
"""Training and test hooks of mmreid_video."""
from .check_identity_batch_hook import CheckIdentityBatchHook
from .check_invalid_loss_hook import CheckInvalidLossHook
from .check_num_classes_hook import CheckNumClassesHook
from .epoch_reseed_hook import EpochReseedHook
from .eval_protocol_hook import EvalProtocolHook
from .loop_timeline_hook import LoopTimelineHook
from .ranked_list_hook import RankedListVisualizationHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .sample_timeout_hook import SampleTimeoutHook
from .two_stage_hook import IterStageSwitchHook, TwoStageTrainingHook

__all__ = [
    'CheckIdentityBatchHook', 'CheckInvalidLossHook', 'CheckNumClassesHook',
    'EpochReseedHook', 'EvalProtocolHook', 'IterStageSwitchHook',
    'LoopTimelineHook', 'RankedListVisualizationHook', 'SafeCheckpointHook',
    'SampleTimeoutHook', 'TwoStageTrainingHook'
]
