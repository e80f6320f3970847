from .gallery_index import GalleryIndex
from .inference import extract_tracklet_features, init_model
from .search import search

__all__ = ['init_model', 'extract_tracklet_features', 'search', 'GalleryIndex']
