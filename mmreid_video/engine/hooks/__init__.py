from .check_invalid_loss_hook import CheckInvalidLossHook
from .check_num_classes_hook import CheckNumClassesHook
from .epoch_reseed_hook import EpochReseedHook
from .ranked_list_hook import RankedListVisualizationHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .sample_timeout_hook import SampleTimeoutHook
from .two_stage_hook import TwoStageTrainingHook

__all__ = [
    'CheckInvalidLossHook', 'CheckNumClassesHook', 'EpochReseedHook',
    'RankedListVisualizationHook', 'SafeCheckpointHook', 'SampleTimeoutHook',
    'TwoStageTrainingHook'
]
