"""Lab 4's known mistakes: each graded test has at least one here that it must catch."""

from autograder.mistakes import Mistake

SCALE = "array = np.asarray(image, dtype=np.float32) / 255"
TO_CHW = "torch.from_numpy(array.transpose(2, 0, 1).copy())"
NETWORKS = frozenset({"resnet18_matches_torchvision", "resnet50_matches_torchvision"})

MISTAKES = (
    # --- the Dataset
    Mistake(
        "no_scaling", "the image keeps its 0-255 values (not scaled to [0, 1])",
        (("dataset_answer", SCALE, "array = np.asarray(image, dtype=np.float32)"),),
        frozenset({"dataset_item_range"}), in_demo=True),
    Mistake(
        "returns_hwc", "the image is returned as (H, W, C), not channels first",
        (("dataset_answer", TO_CHW, "torch.from_numpy(array.copy())"),),
        frozenset({"dataset_item_shape"}), in_demo=True),
    Mistake(
        "float64_image", "the handout's np.asarray(img) / 255 gives a float64 tensor",
        (("dataset_answer", SCALE, "array = np.asarray(image) / 255"),),
        frozenset({"dataset_item_dtype"})),
    Mistake(
        "ignores_size", "the image is opened with PIL directly, so the size asked for is ignored",
        (("dataset_answer", "image = fundus.load_image(path, self.size)",
          "from PIL import Image\n        image = Image.open(path).convert(\"RGB\")"),),
        frozenset({"dataset_item_shape"})),
    Mistake(
        "length_of_the_folder", "__len__ counts the image folder, which holds every split's images",
        (("dataset_answer", "return len(self.img_name)", "return len(list((self.root / \"images\").iterdir()))"),),
        frozenset({"dataset_length"})),
    Mistake(
        "label_off_by_one", "the label is the previous row's level",
        (("dataset_answer", "label = self.label[index]", "label = self.label[index - 1]"),),
        frozenset({"dataset_item_label"})),
    # --- the blocks
    Mistake(
        "basic_stride_on_conv2", "BasicBlock puts the stride on conv2 instead of conv1",
        (("basic_block_answer", "self.conv1 = conv3x3(in_channels, channels, stride)",
          "self.conv1 = conv3x3(in_channels, channels)"),
         ("basic_block_answer", "self.conv2 = conv3x3(channels, channels)", "self.conv2 = conv3x3(channels, channels, stride)")),
        frozenset({"basic_block_matches_torchvision"})),
    Mistake(
        "basic_conv2_unpadded", "BasicBlock's conv2 is a 3x3 convolution without padding",
        (("basic_block_answer", "self.conv2 = conv3x3(channels, channels)",
          "self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, bias=False)"),),
        frozenset({"basic_block_shape", "basic_block_matches_torchvision"})),
    Mistake(
        "basic_no_final_relu", "BasicBlock returns out + identity without the final ReLU",
        (("basic_block_answer", "return self.relu(out + identity)", "return out + identity"),),
        frozenset({"basic_block_matches_torchvision"})),
    Mistake(
        "basic_block_own_names", "BasicBlock names its shortcut `shortcut`, so torchvision's weights do not fit",
        (("basic_block_answer", "self.downsample = shortcut(in_channels, channels, stride)",
          "self.skip = shortcut(in_channels, channels, stride)"),
         ("basic_block_answer", "identity = x if self.downsample is None else self.downsample(x)",
          "identity = x if self.skip is None else self.skip(x)")),
        frozenset({"basic_block_matches_torchvision"})),
    Mistake(
        "bottleneck_stride_on_conv1", "Bottleneck puts the stride on the first 1x1 (lab 1's block), not on the 3x3",
        (("bottleneck_answer", "self.conv1 = conv1x1(in_channels, channels)", "self.conv1 = conv1x1(in_channels, channels, stride)"),
         ("bottleneck_answer", "self.conv2 = conv3x3(channels, channels, stride)", "self.conv2 = conv3x3(channels, channels)")),
        frozenset({"bottleneck_matches_torchvision"}), in_demo=True),
    Mistake(
        "bottleneck_no_expansion", "Bottleneck's conv3 gives `channels`, not 4 x channels",
        (("bottleneck_answer", "out_channels = channels * self.expansion", "out_channels = channels"),),
        frozenset({"bottleneck_shape", "bottleneck_matches_torchvision"})),
    # --- the networks
    Mistake(
        "resnet50_as_resnet101", "resnet50 stacks [3, 4, 23, 3] bottlenecks (ResNet101's)",
        (("resnet_answer", "ResNet(Bottleneck, [3, 4, 6, 3]", "ResNet(Bottleneck, [3, 4, 23, 3]"),),
        frozenset({"resnet50_param_count", "resnet50_matches_torchvision"})),
    Mistake(
        "resnet18_with_bottlenecks", "resnet18 is built of bottlenecks",
        (("resnet_answer", "ResNet(BasicBlock, [2, 2, 2, 2]", "ResNet(Bottleneck, [2, 2, 2, 2]"),),
        frozenset({"resnet18_param_count", "resnet18_matches_torchvision"})),
    Mistake(
        "stride_in_every_block", "make_layer gives every block of a stage the stride",
        (("resnet_answer", "layers.append(block(self.in_channels, channels))",
          "layers.append(block(self.in_channels, channels, stride))"),),
        frozenset({"resnet18_param_count", "resnet50_param_count"}) | NETWORKS),
    Mistake(
        "no_maxpool", "forward skips the max pool after conv1",
        (("resnet_answer", "x = self.maxpool(self.relu(self.bn1(self.conv1(x))))", "x = self.relu(self.bn1(self.conv1(x)))"),),
        NETWORKS),
    Mistake(
        "unused_layer", "make_layer creates a batch norm per stage that forward never uses",
        (("resnet_answer", "        return nn.Sequential(*layers)\n",
          "        setattr(self, f\"norm{channels}\", nn.BatchNorm2d(channels))\n        return nn.Sequential(*layers)\n"),),
        frozenset({"resnet18_param_count", "resnet50_param_count", "resnet_gradients_flow"}) | NETWORKS),
    Mistake(
        "detached_features", "forward detaches the pooled features, so only fc learns",
        (("resnet_answer", "x = torch.flatten(self.avgpool(x), 1)", "x = torch.flatten(self.avgpool(x), 1).detach()"),),
        frozenset({"resnet_gradients_flow"})),
    Mistake(
        "softmax_output", "forward returns softmax probabilities, which cross-entropy cannot drive to zero loss",
        (("resnet_answer", "return self.fc(x)", "return torch.softmax(self.fc(x), dim=1)"),),
        frozenset({"resnet_overfits_batch"}) | NETWORKS),
    # --- the metrics
    Mistake(
        "confusion_by_prediction", "the confusion matrix is normalised by predicted class (columns), not true class",
        (("metrics_answer", "totals = counts.sum(axis=1, keepdims=True)", "totals = counts.sum(axis=0, keepdims=True)"),),
        frozenset({"confusion_matrix_values"}), in_demo=True),
    Mistake(
        "confusion_nan_rows", "a level without images gives a row of NaN (0 / 0)",
        (("metrics_answer", "return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)",
          "return counts / totals"),),
        frozenset({"confusion_matrix_values"})),
    Mistake(
        "balanced_over_every_level", "balanced accuracy averages the recall of all 5 levels, absent ones included",
        (("metrics_answer", "num_classes))[present].mean())", "num_classes)).mean())"),),
        frozenset({"balanced_accuracy_values"})),
    Mistake(
        "baseline_from_test_labels", "the baseline's majority level is taken from the test labels",
        (("metrics_answer", "np.bincount(np.asarray(train_labels))", "np.bincount(np.asarray(test_labels))"),),
        frozenset({"majority_baseline_value"})),
)
