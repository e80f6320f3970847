from .check_invalid_loss_hook import CheckInvalidLossHook
from .epoch_reseed_hook import EpochReseedHook
from .ranked_list_hook import RankedListVisualizationHook
from .two_stage_hook import TwoStageTrainingHook

__all__ = [
    'CheckInvalidLossHook', 'EpochReseedHook', 'RankedListVisualizationHook',
    'TwoStageTrainingHook'
]
