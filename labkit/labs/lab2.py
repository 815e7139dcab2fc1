"""Lab 2 (handout 002): ResNet20/32/44 with option-A shortcuts; settings #1-#3 and the evaluation report."""

from types import MappingProxyType  # read-only: a notebook cannot change what the checks expect

from labkit.labs import scaled_milestones

PARAMETERS = MappingProxyType({20: 269_722, 32: 464_154, 44: 658_586})  # option A (IdentityPadding), 10 classes
EPOCHS = 200
# He et al. (2016), section 4.2: batch 128, SGD momentum 0.9, lr 0.1, weight decay 1e-4, pad-4 crop + flip;
# its 32k / 48k of 64k iterations are lr ÷10 at 50 % and 75 % of the run.
HE_CIFAR = MappingProxyType(dict(batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4,
                                 augment=True))
DECAY = MappingProxyType(dict(schedule="multistep", gamma=0.1))
MILESTONES = (0.5, 0.75)
VAL_FRACTION = 0.1
MODEL_FILE = "lab2_model.pt"  # the trained model a student submits beside the notebook: {'depth', 'state_dict'}


def milestones(epochs: int) -> tuple[int, ...]:
    """The paper's lr drops for a run of `epochs` epochs."""
    return scaled_milestones(epochs, MILESTONES)
