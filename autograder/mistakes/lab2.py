"""Lab 2's known mistakes: each graded test has at least one here that it must catch."""

from autograder.mistakes import Mistake

# The network no longer runs: nothing trains, so there is no saved model to grade either.
WHOLE_NET = frozenset({"resnet_gradients_flow", "resnet_overfits_batch", "saved_model_accuracy"})
# A network with other parameters than the lab's: its saved model is refused (graded only on the lab's network).
OTHER_PARAMETERS = frozenset({"saved_model_accuracy"})

MISTAKES = (
    Mistake(
        "padding_the_width", "F.pad pads the last dimension (the width) instead of the channels",
        (("identity_padding_answer", "F.pad(x, [0, 0, 0, 0, 0, self.add_channels])", "F.pad(x, [0, self.add_channels])"),),
        frozenset({"identity_padding_shape", "identity_padding_values"}) | WHOLE_NET),
    Mistake(
        "zero_channels_first", "the zero channels are put before the input's channels",
        (("identity_padding_answer", "F.pad(x, [0, 0, 0, 0, 0, self.add_channels])",
          "F.pad(x, [0, 0, 0, 0, self.add_channels, 0])"),),
        frozenset({"identity_padding_values"}), in_demo=True),
    Mistake(
        "average_pool_shortcut", "the shortcut averages 2x2 windows instead of keeping every other pixel",
        (("identity_padding_answer", "nn.MaxPool2d(kernel_size=1, stride=stride)", "nn.AvgPool2d(kernel_size=stride, stride=stride)"),),
        frozenset({"identity_padding_values"})),
    Mistake(
        "shortcut_unused_parameter", "IdentityPadding creates a learnable scale it never uses",
        (("identity_padding_answer", "        self.add_channels = out_channels - in_channels\n",
          "        self.add_channels = out_channels - in_channels\n        self.scale = nn.Parameter(torch.ones(1))\n"),),
        frozenset({"resnet_gradients_flow"}) | OTHER_PARAMETERS),
    Mistake(
        "conv1_unpadded", "conv1 has padding 0",
        (("resblock_answer", "kernel_size=3, stride=stride, padding=1, bias=False", "kernel_size=3, stride=stride, padding=0, bias=False"),),
        frozenset({"resblock_kernel_stride_padding", "resblock_shape", "resblock_golden"}) | WHOLE_NET),
    Mistake(
        "stride_on_conv2", "the stride is on conv2 instead of conv1",
        (("resblock_answer", "kernel_size=3, stride=stride, padding=1, bias=False", "kernel_size=3, stride=1, padding=1, bias=False"),
         ("resblock_answer", "self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1,",
          "self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=stride,")),
        frozenset({"resblock_kernel_stride_padding", "resblock_golden"}), in_demo=True),
    Mistake(
        "conv_with_bias", "conv1 keeps its bias (batch norm makes it useless)",
        (("resblock_answer", "kernel_size=3, stride=stride, padding=1, bias=False", "kernel_size=3, stride=stride, padding=1"),),
        frozenset({"resblock_kernel_stride_padding", "resblock_golden"}) | OTHER_PARAMETERS),
    Mistake(
        "first_block_without_shortcut", "get_layers never gives the first block its option-A shortcut",
        (("resnet_answer", "down_sample = stride == 2", "down_sample = False"),),
        frozenset({"resnet_stage_shapes", "resnet_golden"}) | WHOLE_NET, in_demo=True),
    Mistake(
        "one_block_too_many", "get_layers makes num_layers + 1 blocks",
        (("resnet_answer", "for _ in range(self.num_layers - 1):", "for _ in range(self.num_layers):"),),
        frozenset({"resnet_param_counts", "resnet_golden", "resnet_depth_validation"}) | OTHER_PARAMETERS),
    Mistake(
        "any_depth_accepted", "resnet(depth) accepts depths that are not 6n + 2",
        (("resnet_answer", "    if depth < 8 or (depth - 2) % 6:\n        raise ValueError(f\"depth must be 6n + 2 (20, 32, 44, ...), got {depth}\")\n", ""),),
        frozenset({"resnet_depth_validation"})),
    Mistake(
        "stage_zeroed_in_training", "each stage ends with a dropout that zeroes everything while training",
        (("resnet_answer", "return nn.Sequential(*layers)", "return nn.Sequential(*layers, nn.Dropout(p=1.0))"),),
        frozenset({"resnet_overfits_batch"})),
)
