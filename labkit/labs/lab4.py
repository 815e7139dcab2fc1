"""Lab 4 (handout 004): ResNet18 / ResNet50 on fundus photographs, pretrained versus scratch."""

from types import MappingProxyType  # read-only: a notebook cannot change what the checks expect

PARAMETERS = MappingProxyType({"resnet18": 11_179_077, "resnet50": 23_518_277})  # torchvision's, with a 5-way fc
IMAGE_SIZE = 512
EPOCHS = {"resnet18": 10, "resnet50": 5}
BATCH_SIZE, LR, MOMENTUM, WEIGHT_DECAY = 8, 1e-3, 0.9, 5e-4  # SGD
# Best test accuracy (%) per run; None: the handout reports none.
HANDOUT_ACCURACY = {("resnet18", "pretrained"): 78.31, ("resnet18", "scratch"): 73.36,
                    ("resnet50", "pretrained"): 78.21, ("resnet50", "scratch"): None}
