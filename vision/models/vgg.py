"""VGG (``torchvision.models.vgg``): Simonyan & Zisserman (2015), "Very Deep Convolutional
Networks for Large-Scale Image Recognition". Configurations A (vgg11) and D (vgg16), with and
without batch norm; torchvision's module tree and initialisation.

Shape: input (N, 3, H, W) (H, W >= 32), output (N, num_classes); ``avgpool`` is adaptive to
7x7, so any size works.
"""

import autograd
import nn

from ._api import _model_builder, _weights_enum, load_weights

__all__ = ["VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn", "VGG11_Weights", "VGG16_Weights"]

cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG (``torchvision.models.VGG``).

    Args:
        features (nn.Module): the convolutional part (see :func:`make_layers`).
        num_classes (int): default 1000. init_weights (bool): torchvision's init.
        dropout (float): in the classifier (default 0.5).
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        x = autograd.flatten(x, 1)
        return self.classifier(x)


def make_layers(cfg, batch_norm=False):
    """The ``features`` Sequential of a configuration: 3x3 convolutions (padding 1), each
    followed by (BatchNorm2d and) ReLU, "M" a 2x2 max pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def _vgg(name, cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    return load_weights(model, weights, name, progress)


VGG11_Weights = _weights_enum("VGG11_Weights", ["IMAGENET1K_V1"])
VGG16_Weights = _weights_enum("VGG16_Weights", ["IMAGENET1K_V1"])


def _vgg_builders(depth, cfg):
    """The two builders of one VGG depth, ``vgg{depth}`` (plain) and ``vgg{depth}_bn`` (a
    BatchNorm2d after each convolution), both of configuration ``cfg`` (a key of ``cfgs``)."""
    plain = _model_builder(
        f"vgg{depth}", _vgg,
        f"VGG-{depth}, configuration {cfg} (``torchvision.models.vgg{depth}``).", cfg, False)
    batch_norm = _model_builder(
        f"vgg{depth}_bn", _vgg,
        f"VGG-{depth} with batch norm (``torchvision.models.vgg{depth}_bn``).", cfg, True)
    return plain, batch_norm


vgg11, vgg11_bn = _vgg_builders(11, "A")
vgg13, vgg13_bn = _vgg_builders(13, "B")
vgg16, vgg16_bn = _vgg_builders(16, "D")
vgg19, vgg19_bn = _vgg_builders(19, "E")
