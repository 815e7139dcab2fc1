"""Lab 3 (handout 003): ResNet44 with conv shortcuts, the handout's augmentation, 50 epochs."""

RESNET44_PARAMETERS = 681_818  # conv (1x1 + BN) shortcuts, 10 classes
EPOCHS = 50
HANDOUT_ACCURACY = 87.09       # test accuracy (%) after 50 epochs
ITERATION_MILESTONES = (32000, 48000)  # MultiStepLR as written, stepped per iteration
