"""Lab 3's known mistakes: each graded test has at least one here that it must catch."""

from autograder.mistakes import Mistake

MISTAKES = (
    Mistake(
        "std_per_image", "the handout's std: the average of each image's std",
        (("stats_answer", "    std = np.sqrt(((x - mean) ** 2).mean(axis=0, dtype=np.float64))\n",
          "    std = (images.astype(np.float32) / 255).std(axis=(1, 2)).mean(axis=0)\n"),),
        frozenset({"stats_std_dataset_wide"}), in_demo=True),
    Mistake(
        "stats_unscaled", "statistics in 0..255 units (no division by 255)",
        (("stats_answer", "x = images.reshape(-1, 3).astype(np.float32) / 255", "x = images.reshape(-1, 3).astype(np.float32)"),),
        frozenset({"stats_mean", "stats_std_dataset_wide"})),
    Mistake(
        "no_color_jitter", "the augmentation leaves out ColorJitter",
        (("augment_answer", "        transforms.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),\n", ""),),
        frozenset({"augment_pipeline"})),
    Mistake(
        "rotation_fills_gray", "the rotation fills the corners with gray",
        (("augment_answer", "transforms.RandomRotation(10),", "transforms.RandomRotation(10, fill=128),"),),
        frozenset({"augment_output"})),
    Mistake(
        "normalize_before_to_tensor", "Normalize comes before ToTensor",
        (("augment_answer", "        transforms.ToTensor(),\n        transforms.Normalize(mean, std),\n",
          "        transforms.Normalize(mean, std),\n        transforms.ToTensor(),\n"),),
        frozenset({"augment_pipeline", "augment_output"})),
    Mistake(
        "split_unseeded", "the split shuffles with NumPy's global random state",
        (("split_answer", "indices = np.random.RandomState(seed).permutation(n)", "indices = np.random.permutation(n)"),),
        frozenset({"split_deterministic"}), in_demo=True),
    Mistake(
        "split_one_extra", "the validation part takes one index too many",
        (("split_answer", "split = int(np.floor(val_ratio * n))", "split = int(np.floor(val_ratio * n)) + 1"),),
        frozenset({"split_sizes"})),
    Mistake(
        "split_with_replacement", "indices are drawn with replacement instead of shuffled",
        (("split_answer", "indices = np.random.RandomState(seed).permutation(n)", "indices = np.random.RandomState(seed).randint(0, n, n)"),),
        frozenset({"split_disjoint_complete"})),
    Mistake(
        "shortcut_never_applied", "forward adds x even when the block has a shortcut",
        (("resnet_answer", "identity = x if self.shortcut is None else self.shortcut(x)", "identity = x"),),
        frozenset({"block_golden", "resnet44_overfits_batch"})),
    Mistake(
        "relu_before_add", "forward applies the last ReLU before adding the shortcut",
        (("resnet_answer", "return self.relu(out + identity)", "return self.relu(out) + identity"),),
        frozenset({"block_golden"})),
    Mistake(
        "in_channels_not_updated", "make_layer forgets self.in_channels = out_channels",
        (("resnet_answer", "        self.in_channels = out_channels\n        for _ in range(1, num_blocks):",
          "        for _ in range(1, num_blocks):"),),
        frozenset({"resnet44_stage_shapes", "resnet44_param_count", "resnet44_golden", "resnet44_overfits_batch"})),
    Mistake(
        "shortcut_without_bn", "the shortcut is a convolution without BatchNorm2d",
        (("resnet_answer", "            shortcut = nn.Sequential(conv3(self.in_channels, out_channels, stride=stride),\n"
                           "                                     nn.BatchNorm2d(out_channels))",
          "            shortcut = nn.Sequential(conv3(self.in_channels, out_channels, stride=stride))"),),
        frozenset({"resnet44_param_count", "resnet44_golden"})),
    Mistake(
        "stage_zeroed_in_training", "each stage ends with a dropout that zeroes everything while training",
        (("resnet_answer", "return nn.Sequential(*layers)", "return nn.Sequential(*layers, nn.Dropout(p=1.0))"),),
        frozenset({"resnet44_overfits_batch"})),
    Mistake(
        "no_zero_grad", "train_one_epoch never clears the gradients",
        (("loop_answer", "        optimizer.zero_grad()\n        output = model(data)\n        loss = loss_func(output, target)\n        loss.backward()",
          "        output = model(data)\n        loss = loss_func(output, target)\n        loss.backward()"),),
        frozenset({"train_epoch_updates", "train_epoch_metrics"}), in_demo=True),
    Mistake(
        "scheduler_per_epoch", "the scheduler steps once per epoch instead of once per batch",
        (("loop_answer", "        if scheduler is not None:\n            scheduler.step()\n        total_loss += loss.item() * target.size(0)",
          "        total_loss += loss.item() * target.size(0)"),
         ("loop_answer", "    return total_loss / total, 100.0 * correct / total\n\n\ndef validate",
          "    if scheduler is not None:\n        scheduler.step()\n    return total_loss / total, 100.0 * correct / total\n\n\ndef validate")),
        frozenset({"train_epoch_updates", "train_epoch_metrics"})),
    Mistake(
        "loss_sum_over_images", "the handout's loss: the sum of batch means divided by the number of images",
        (("loop_answer", "        total_loss += loss.item() * target.size(0)\n        correct += (output.argmax(dim=1) == target).sum().item()\n        total += target.size(0)\n    return total_loss / total, 100.0 * correct / total\n\n\ndef validate",
          "        total_loss += loss.item()\n        correct += (output.argmax(dim=1) == target).sum().item()\n        total += target.size(0)\n    return total_loss / total, 100.0 * correct / total\n\n\ndef validate"),),
        frozenset({"train_epoch_metrics"})),
    Mistake(
        "validate_in_train_mode", "validate forgets model.eval()",
        (("loop_answer", "    model.eval()\n", ""),),
        frozenset({"validate_metrics"})),
    Mistake(
        "validate_with_gradients", "validate runs without torch.no_grad()",
        (("loop_answer", "    with torch.no_grad():\n        for data, target in loader:\n            data, target = data.to(device), target.to(device)\n            output = model(data)\n            total_loss += loss_func(output, target).item() * target.size(0)",
          "    if True:\n        for data, target in loader:\n            data, target = data.to(device), target.to(device)\n            output = model(data)\n            total_loss += loss_func(output, target).item() * target.size(0)"),),
        frozenset({"validate_metrics"})),
    Mistake(
        "history_from_zero", "fit numbers the epochs from 0",
        (("loop_answer", 'history.append({"epoch": epoch, ', 'history.append({"epoch": epoch - 1, '),),
        frozenset({"fit_history"})),
)
