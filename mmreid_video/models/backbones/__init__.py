from .camera_aware_vit import CameraAwareViT

__all__ = ['CameraAwareViT']
