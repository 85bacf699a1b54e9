"""Model architectures (``torchvision.models``) with torchvision's exact module trees, so
``state_dict`` keys and shapes match and exported torchvision weights load:
``resnet18/34/50/101/152``, ``resnext50_32x4d``, ``wide_resnet50_2``, ``mobilenet_v2``,
``vgg11/13/16/19`` (and ``_bn``), ``alexnet``, ``squeezenet1_0/1_1``.

``weights=`` is a local safetensors file (``safetensors.torch.save_file(tv_model.state_dict(),
path)`` on the torchvision side); nothing is downloaded (see :mod:`vision.models._api`).
"""

from ._api import WeightsEnum, get_model, list_models
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .resnet import (ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights,
                     ResNet101_Weights, ResNet152_Weights, resnet18, resnet34, resnet50,
                     resnet101, resnet152, resnext50_32x4d, wide_resnet50_2)
from .squeezenet import (SqueezeNet, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights,
                         squeezenet1_0, squeezenet1_1)
from .vgg import (VGG, VGG11_Weights, VGG16_Weights, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16,
                  vgg16_bn, vgg19, vgg19_bn)

__all__ = ["ResNet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "wide_resnet50_2", "MobileNetV2", "mobilenet_v2", "VGG", "vgg11",
           "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
           "AlexNet", "alexnet", "SqueezeNet", "squeezenet1_0", "squeezenet1_1",
           "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights",
           "ResNet152_Weights", "MobileNet_V2_Weights", "VGG11_Weights", "VGG16_Weights",
           "AlexNet_Weights", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "WeightsEnum",
           "get_model", "list_models"]
