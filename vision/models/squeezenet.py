"""SqueezeNet (``torchvision.models.squeezenet``): Iandola et al. (2016), "SqueezeNet:
AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size"; version 1.1 from the
authors' repository (forresti/SqueezeNet). torchvision's tree and initialisation.

Shape: input (N, 3, H, W) (H, W >= 32), output (N, num_classes).
"""

import autograd
import nn

from ._api import _weights_enum, load_weights, register_model

__all__ = ["SqueezeNet", "Fire", "squeezenet1_0", "squeezenet1_1", "SqueezeNet1_0_Weights",
           "SqueezeNet1_1_Weights"]


class Fire(nn.Module):
    """Squeeze (1x1) then expand (1x1 and 3x3, concatenated on channels)."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return autograd.cat([self.expand1x1_activation(self.expand1x1(x)),
                             self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    """SqueezeNet (``torchvision.models.SqueezeNet``).

    Args:
        version (str): ``"1_0"`` or ``"1_1"``. num_classes (int): default 1000.
        dropout (float): default 0.5.

    Raises:
        ValueError: another version.
    """

    def __init__(self, version="1_0", num_classes=1000, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(512, 64, 256, 256))
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256))
        else:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")
        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv,
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.classifier(self.features(x))
        return autograd.flatten(x, 1)


SqueezeNet1_0_Weights = _weights_enum("SqueezeNet1_0_Weights", ["IMAGENET1K_V1"])
SqueezeNet1_1_Weights = _weights_enum("SqueezeNet1_1_Weights", ["IMAGENET1K_V1"])


@register_model
def squeezenet1_0(*, weights=None, progress=True, **kwargs):
    """SqueezeNet 1.0 (``torchvision.models.squeezenet1_0``)."""
    return load_weights(SqueezeNet("1_0", **kwargs), weights, "squeezenet1_0", progress)


@register_model
def squeezenet1_1(*, weights=None, progress=True, **kwargs):
    """SqueezeNet 1.1 (``torchvision.models.squeezenet1_1``); ``weights``: a local safetensors
    path."""
    return load_weights(SqueezeNet("1_1", **kwargs), weights, "squeezenet1_1", progress)
