_base_ = [
    '../_base_/models/denseil_vit-b16.py', '../_base_/datasets/mars.py',
    '../_base_/schedules/denseil-vit_adamw_120e-60e.py',
    '../_base_/default_runtime.py'
]

# Both stages in one command, as denseil_r50_mars.py: epochs [0, 120) the
# ViT encoder as the baseline, epochs [120, 180) the DI decoder on it.
# Camera-aware tokens (TransReID's SIE):
#   --cfg-options model.backbone.type=CameraAwareViT
#   model.backbone.num_cameras=6
model = dict(encoder_head=dict(num_classes=625), head=dict(num_classes=625))
