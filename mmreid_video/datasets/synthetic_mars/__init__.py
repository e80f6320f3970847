"""Synthetic video re-ID data in the exact MARS layout."""
from .dataset import SyntheticMARS, ensure_synthetic_mars
from .generate import make_synthetic_mars

__all__ = ['SyntheticMARS', 'ensure_synthetic_mars', 'make_synthetic_mars']
