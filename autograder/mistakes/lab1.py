"""Lab 1's known mistakes: each graded test has at least one here that it must catch."""

from autograder.mistakes import Mistake

WHOLE_NET = frozenset({"resnet50_gradients_flow", "resnet50_overfits_batch"})  # the network no longer runs
HELPERS = frozenset({"conv_helpers_structure", "conv_helpers_shape"})  # a wrong helper loses the helpers' points

MISTAKES = (
    Mistake(
        "helper_without_batchnorm", "conv1x1 is Conv -> ReLU, without BatchNorm2d",
        (("conv_helpers_answer", "kernel_size=1, stride=stride, padding=padding),\n        nn.BatchNorm2d(out_channels),\n",
          "kernel_size=1, stride=stride, padding=padding),\n"),),
        HELPERS),
    Mistake(
        "conv3x3_ignores_padding", "conv3x3 always uses padding 0",
        (("conv_helpers_answer", "kernel_size=3, stride=stride, padding=padding", "kernel_size=3, stride=stride, padding=0"),),
        HELPERS | WHOLE_NET),
    Mistake(
        "dilated_conv3x3", "conv3x3 dilated by 2 with twice the padding: every shape holds, the values do not",
        (("conv_helpers_answer", "kernel_size=3, stride=stride, padding=padding",
          "kernel_size=3, stride=stride, padding=2 * padding, dilation=2"),),
        HELPERS),
    Mistake(
        "downsize_without_stride", "self.downsize keeps the input size (stride 1)",
        (("resblock_answer", "self.downsize = conv1x1(in_channels, out_channels, 2, 0)",
          "self.downsize = conv1x1(in_channels, out_channels, 1, 0)"),),
        frozenset({"resblock_downsample_shape", "resblock_downsample_golden"}) | WHOLE_NET),
    Mistake(
        "stride_on_3x3", "stride 2 on the 3x3 convolution instead of the first 1x1 (handout 000's discussion)",
        (("resblock_answer", "conv1x1(in_channels, middle_channels, 2, 0),\n                conv3x3(middle_channels, middle_channels, 1, 1),",
          "conv1x1(in_channels, middle_channels, 1, 0),\n                conv3x3(middle_channels, middle_channels, 2, 1),"),),
        frozenset({"resblock_downsample_stride_position", "resblock_downsample_golden"}), in_demo=True),
    Mistake(
        "downsize_is_3x3", "self.downsize is a 3x3 convolution",
        (("resblock_answer", "self.downsize = conv1x1(in_channels, out_channels, 2, 0)",
          "self.downsize = conv3x3(in_channels, out_channels, 2, 1)"),),
        frozenset({"resblock_downsample_golden"})),
    Mistake(
        "identity_3x3_unpadded", "the 3x3 of a block without downsampling has padding 0",
        (("resblock_answer", "conv1x1(in_channels, middle_channels, 1, 0),\n                conv3x3(middle_channels, middle_channels, 1, 1),",
          "conv1x1(in_channels, middle_channels, 1, 0),\n                conv3x3(middle_channels, middle_channels, 1, 0),"),),
        frozenset({"resblock_identity_shape", "resblock_identity_golden"}) | WHOLE_NET),
    Mistake(
        "is_not_shortcut", "the handout's `x.size() is not out.size()`, with make_equal_channel in every block",
        (("resblock_answer", "            if in_channels != out_channels:\n                self.make_equal_channel",
          "            if True:\n                self.make_equal_channel"),
         ("resblock_answer", "elif x.size(1) != out.size(1):", "elif x.size() is not out.size():")),
        frozenset({"resblock_identity_param_count", "resblock_identity_golden"}), in_demo=True),
    Mistake(
        "unused_projection", "make_equal_channel created in every block but only used where needed",
        (("resblock_answer", "            if in_channels != out_channels:\n                self.make_equal_channel",
          "            if True:\n                self.make_equal_channel"),),
        frozenset({"resblock_identity_param_count", "resnet50_gradients_flow"})),
    Mistake(
        "maxpool_padding_0", "layer1's max pool has padding 0 (handout 001's code): 7x7 instead of 8x8",
        (("resnet50_answer", "nn.MaxPool2d(3, 2, 1)", "nn.MaxPool2d(3, 2, 0)"),),
        frozenset({"resnet50_layer1_shape", "resnet50_layer1_golden"}), in_demo=True),
    Mistake(
        "stem_relu_before_bn", "layer1 applies ReLU before BatchNorm2d",
        (("resnet50_answer", "            nn.BatchNorm2d(64),\n            nn.ReLU(inplace=True),",
          "            nn.ReLU(inplace=True),\n            nn.BatchNorm2d(64),"),),
        frozenset({"resnet50_layer1_golden"})),
    Mistake(
        "stem_zeroed_in_training", "layer1 ends with a dropout that zeroes everything while training",
        (("resnet50_answer", "            nn.MaxPool2d(3, 2, 1),\n", "            nn.MaxPool2d(3, 2, 1),\n            nn.Dropout(p=1.0),\n"),),
        frozenset({"resnet50_overfits_batch"})),
    Mistake(
        "layer2_never_downsamples", "layer2's last block has downsample=False",
        (("resnet50_answer", "ResidualBlock(256, 64, 256, True)", "ResidualBlock(256, 64, 256, False)"),),
        frozenset({"resnet50_layer2_shape", "resnet50_layer2_golden", "resnet50_param_count"}) | WHOLE_NET),
    Mistake(
        "layer2_wide_middle", "layer2's first block uses 128 middle channels",
        (("resnet50_answer", "ResidualBlock(64, 64, 256, False)", "ResidualBlock(64, 128, 256, False)"),),
        frozenset({"resnet50_layer2_golden", "resnet50_param_count"})),
    Mistake(
        "fc_100_classes", "fc maps to 100 classes",
        (("resnet50_answer", "self.fc = nn.Linear(1024, num_classes)", "self.fc = nn.Linear(1024, 100)"),),
        frozenset({"resnet50_head_shape", "resnet50_param_count"})),
    Mistake(
        "fc_without_bias", "fc has no bias",
        (("resnet50_answer", "self.fc = nn.Linear(1024, num_classes)", "self.fc = nn.Linear(1024, num_classes, bias=False)"),),
        frozenset({"resnet50_param_count"})),
    Mistake(
        "layer3_never_downsamples", "layer3's last block has downsample=False",
        (("resnet50_answer", "ResidualBlock(512, 128, 512, True)", "ResidualBlock(512, 128, 512, False)"),),
        frozenset({"resnet50_layer3_shape", "resnet50_layer3_golden", "resnet50_param_count"}) | WHOLE_NET),
    Mistake(
        "layer3_downsamples_first", "layer3 downsamples in its first block instead of its last",
        (("resnet50_answer", "ResidualBlock(256, 128, 512, False)", "ResidualBlock(256, 128, 512, True)"),
         ("resnet50_answer", "ResidualBlock(512, 128, 512, True)", "ResidualBlock(512, 128, 512, False)")),
        frozenset({"resnet50_layer3_golden", "resnet50_param_count"})),
    Mistake(
        "layer4_downsamples", "layer4's last block downsamples",
        (("resnet50_answer", "ResidualBlock(1024, 256, 1024, False),\n        )", "ResidualBlock(1024, 256, 1024, True),\n        )"),),
        frozenset({"resnet50_layer4_shape", "resnet50_layer4_golden", "resnet50_param_count"}) | WHOLE_NET),
    Mistake(
        "layer4_five_blocks", "layer4 has five blocks instead of six",
        (("resnet50_answer", "            ResidualBlock(1024, 256, 1024, False),\n        )", "        )"),),
        frozenset({"resnet50_layer4_golden", "resnet50_param_count"})),
    Mistake(
        "vgg_without_relu", "make_layers forgets the ReLU after each convolution",
        (("vgg_answer", "layers += [conv2d, nn.ReLU(inplace=True)]", "layers += [conv2d]"),),
        frozenset({"vgg_layers", "vgg_golden"})),
    Mistake(
        "vgg_in_channels_stuck", "make_layers never updates in_channels",
        (("vgg_answer", "            in_channels = v\n", ""),),
        frozenset({"vgg_param_count", "vgg_golden"})),
    Mistake(
        "vgg_pool_stride_1", "VGG's max pools have stride 1",
        (("vgg_answer", "nn.MaxPool2d(kernel_size=2, stride=2)", "nn.MaxPool2d(kernel_size=2, stride=1)"),),
        frozenset({"vgg_layers", "vgg_golden"})),
    Mistake(
        "vgg_bn_after_relu", "with batch_norm, BatchNorm2d comes after the ReLU",
        (("vgg_answer", "layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]",
          "layers += [conv2d, nn.ReLU(inplace=True), nn.BatchNorm2d(v)]"),),
        frozenset({"vgg_layers"})),
    Mistake(
        "cheat_patches_checks", "a cheat attempt: max pool padding 0, and the notebook replaces the two checks it "
        "fails with functions that pass",
        (("resnet50_answer", "nn.MaxPool2d(3, 2, 1)", "nn.MaxPool2d(3, 2, 0)"),
         ("resnet50_answer", "        return self.fc(out)", "        return self.fc(out)\n\n\n"
          "import autograder.checks.lab1 as _grader\n"
          "_grader.resnet50_layer1_shape = _grader.resnet50_layer1_golden = lambda *args: None")),
        frozenset({"resnet50_layer1_shape", "resnet50_layer1_golden"}), in_demo=True),
    Mistake(
        "vgg_typo_raises", "a typo (nn.Maxpool2d) makes make_layers raise AttributeError",
        (("vgg_answer", "nn.MaxPool2d(kernel_size=2, stride=2)", "nn.Maxpool2d(kernel_size=2, stride=2)"),),
        frozenset({"vgg_layers", "vgg_param_count", "vgg_golden"}), in_demo=True),
    Mistake(
        "warns_on_stderr", "the helpers trigger a torch FutureWarning on stderr in the test cells",
        (("conv_helpers_answer", "def conv1x1(", "import warnings\nwarnings.simplefilter('always')  # show every warning\n\n\ndef conv1x1("),
         ("conv_helpers_answer", "(N, out_channels, H', W').\"\"\"\n    return nn.Sequential(\n        nn.Conv2d(in_channels, out_channels, kernel_size=1",
          "(N, out_channels, H', W').\"\"\"\n    nn.init.kaiming_normal(torch.empty(out_channels, in_channels))  # deprecated: warns\n"
          "    return nn.Sequential(\n        nn.Conv2d(in_channels, out_channels, kernel_size=1")),
        frozenset(), in_demo=True),
)
