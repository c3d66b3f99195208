"""The trainer: CIFAR-style backbones, heads and the models that wire them together.

A separate subpackage with its own extra (``gaussaudit[train]``); the statistics
core never imports it. Checkpoints it writes are read back by the
``resnet18-simclr`` / ``resnet18-supervised`` encoders
(:mod:`gaussaudit.encoders.checkpoints`).
"""
