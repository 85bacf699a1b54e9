"""ResNet (``torchvision.models.resnet``): He, Zhang, Ren & Sun (2016), "Deep Residual Learning
for Image Recognition"; the Bottleneck's stride sits on its 3x3 convolution (ResNet V1.5, as
torchvision). The module tree, names and initialisation are torchvision's, so ``state_dict``
keys and shapes match.

Shape: input (N, 3, H, W) (H, W >= 32 is safe), output (N, num_classes).
"""

import autograd
import nn

from ._api import _model_builder, _weights_enum, load_weights

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2", "ResNet18_Weights",
           "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class _ResidualBlock(nn.Module):
    """What both ResNet blocks compute: ``relu(branch(x) + shortcut(x))``, where the subclass's
    ``_branch`` is its stack of convolutions and the shortcut is ``downsample(x)``, or ``x``
    itself when ``downsample`` is None (torchvision writes this out in each block's
    ``forward``)."""

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self._branch(x) + identity)


class BasicBlock(_ResidualBlock):
    """Two 3x3 convolutions with a residual connection (expansion 1).

    Raises:
        ValueError: ``groups != 1`` or ``base_width != 64``. NotImplementedError: dilation > 1.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def _branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck(_ResidualBlock):
    """1x1 -> 3x3 (stride, groups) -> 1x1 convolutions with a residual connection
    (expansion 4)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def _branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


class ResNet(nn.Module):
    """ResNet (``torchvision.models.ResNet``).

    Args:
        block (type): :class:`BasicBlock` or :class:`Bottleneck`.
        layers (list[int]): blocks per stage (4 stages).
        num_classes (int): outputs of ``fc`` (default 1000).
        zero_init_residual (bool): start each block's last BN weight at 0.
        groups, width_per_group (int): ResNeXt / wide variants.
        replace_stride_with_dilation (list[bool], optional): 3 flags for stages 2-4.
        norm_layer (callable, optional): default ``nn.BatchNorm2d``.

    Attributes:
        conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc: torchvision's names.

    Raises:
        ValueError: ``replace_stride_with_dilation`` not of length 3.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = autograd.flatten(x, 1)
        return self.fc(x)


ResNet18_Weights = _weights_enum("ResNet18_Weights", ["IMAGENET1K_V1"])
ResNet34_Weights = _weights_enum("ResNet34_Weights", ["IMAGENET1K_V1"])
ResNet50_Weights = _weights_enum("ResNet50_Weights", ["IMAGENET1K_V1", "IMAGENET1K_V2"])
ResNet101_Weights = _weights_enum("ResNet101_Weights", ["IMAGENET1K_V1", "IMAGENET1K_V2"])
ResNet152_Weights = _weights_enum("ResNet152_Weights", ["IMAGENET1K_V1", "IMAGENET1K_V2"])


def _resnet(name, block, layers, weights, progress, **kwargs):
    return load_weights(ResNet(block, layers, **kwargs), weights, name, progress)


def _resnet_builder(name, title, block, layers, paper=None, **defaults):
    """The registered builder ``name`` of one ResNet variant (:func:`_model_builder` over
    :func:`_resnet`): ``block`` (BasicBlock or Bottleneck) repeated ``layers`` times per stage,
    ``defaults`` the variant's other ResNet arguments (ResNeXt's ``groups``); its docstring
    names ``title``, torchvision's builder and the ``paper`` of the variant, if any."""
    source = f"; {paper}" if paper else ""
    doc = (f"{title} (``torchvision.models.{name}``{source}); ``weights``: a local safetensors "
           "path.")
    return _model_builder(name, _resnet, doc, block, layers, **defaults)


resnet18 = _resnet_builder("resnet18", "ResNet-18", BasicBlock, [2, 2, 2, 2])
resnet34 = _resnet_builder("resnet34", "ResNet-34", BasicBlock, [3, 4, 6, 3])
resnet50 = _resnet_builder("resnet50", "ResNet-50", Bottleneck, [3, 4, 6, 3])
resnet101 = _resnet_builder("resnet101", "ResNet-101", Bottleneck, [3, 4, 23, 3])
resnet152 = _resnet_builder("resnet152", "ResNet-152", Bottleneck, [3, 8, 36, 3])
resnext50_32x4d = _resnet_builder("resnext50_32x4d", "ResNeXt-50 32x4d", Bottleneck, [3, 4, 6, 3],
                                  "Xie et al. 2017", groups=32, width_per_group=4)
wide_resnet50_2 = _resnet_builder("wide_resnet50_2", "Wide ResNet-50-2", Bottleneck, [3, 4, 6, 3],
                                  "Zagoruyko & Komodakis 2016", width_per_group=64 * 2)
