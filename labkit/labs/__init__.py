"""Each lab's public facts, defined once: parameter counts, the handouts' and the paper's figures, recipes.

The notebooks, the visible and hidden checks, `course reproduce`, the tests and the benchmarks all read
them from here (labkit is what students get, so nothing here is an answer).
"""

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # CIFAR-10 training set, per channel (lab 2, lab 3's dataset-wide value)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR10_TRAIN_IMAGES = 50_000
HE_2016 = "He et al. 2016, *Deep Residual Learning for Image Recognition* (CVPR), Table 6"
PAPER_ACCURACY = {20: 91.25, 32: 92.49, 44: 92.83}       # He et al. 2016, Table 6: test accuracy (%)
PAPER_PARAMETERS = {20: 0.27, 32: 0.46, 44: 0.66}        # ... and parameters (millions)


def scaled_milestones(epochs: int, fractions: tuple[float, ...]) -> tuple[int, ...]:
    """lr milestones at `fractions` of `epochs` (at least epoch 1), e.g. (0.5, 0.75) of 200 -> (100, 150)."""
    return tuple(max(1, int(epochs * fraction)) for fraction in fractions)
