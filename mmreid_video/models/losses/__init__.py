"""Re-ID losses."""
from .triplet_loss import TripletLoss

__all__ = ['TripletLoss']
