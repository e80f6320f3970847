from .inference import extract_tracklet_features, init_model, search

__all__ = ['init_model', 'extract_tracklet_features', 'search']
