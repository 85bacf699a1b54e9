"""AlexNet (``torchvision.models.alexnet``): Krizhevsky, Sutskever & Hinton (2012), in the
one-GPU variant of Krizhevsky (2014), "One weird trick for parallelizing convolutional neural
networks", as torchvision. Default layer initialisation.

Shape: input (N, 3, H, W) (H, W >= 63), output (N, num_classes); ``avgpool`` is adaptive to
6x6.
"""

import autograd
import nn

from ._api import _weights_enum, load_weights, register_model

__all__ = ["AlexNet", "alexnet", "AlexNet_Weights"]


class AlexNet(nn.Module):
    """AlexNet (``torchvision.models.AlexNet``).

    Args:
        num_classes (int): default 1000. dropout (float): default 0.5.
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        x = autograd.flatten(x, 1)
        return self.classifier(x)


AlexNet_Weights = _weights_enum("AlexNet_Weights", ["IMAGENET1K_V1"])


@register_model
def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet (``torchvision.models.alexnet``); ``weights``: a local safetensors path."""
    return load_weights(AlexNet(**kwargs), weights, "alexnet", progress)
