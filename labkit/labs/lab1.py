"""Lab 1 (handouts 000 and 001): VGG-16 and ResNet50_layer4 on CIFAR-10 with main.py's recipe."""

from types import MappingProxyType  # read-only: a notebook cannot change what the checks expect

# main.py: Adam 1e-3, batch 100, crop + flip, the handout's normalisation, lr ÷3 every DECAY_EVERY epochs.
MAIN_PY = MappingProxyType(dict(batch_size=100, optimizer="adam", lr=1e-3, weight_decay=0.0, augment=True,
                                schedule="multistep", gamma=1 / 3))
DECAY_EVERY = 20
# Test accuracy (%) after one fine-tuning epoch from the 285 / 250-epoch checkpoints (handout 000).
HANDOUT_ACCURACY = MappingProxyType({"resnet50": 82.51, "vgg16": 86.43})
HANDOUT_CHECKPOINT_EPOCHS = MappingProxyType({"resnet50": 285, "vgg16": 250})
