"""Identity (P x K) sampling of training batches."""
from .identity_batch_sampler import IdentityBatchSampler
from .identity_sampler import IdentitySampler

__all__ = ['IdentitySampler', 'IdentityBatchSampler']
