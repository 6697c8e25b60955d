# Builds small torchvision-layout VGGs with random weights, saves their state dicts in
# every format vggkit/weights reads, and writes PyTorch's logits on fixed uint8 images:
# the reference weights_test.go compares vggkit's forward pass with.
# Usage: python make_refs.py OUTDIR
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import save_file
from torchvision.models.vgg import cfgs as tv_cfgs, make_layers

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
ARCH_CFG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def channels(n, width):  # vggkit's config.Model.Channels.
    return max(1, int(n * width + 0.5))


class SmallVGG(nn.Module):
    """torchvision's VGG (its own make_layers, same key names) at any width, with
    torchvision's classic head or vggkit's GAP head as classifier.0."""

    def __init__(self, arch, bn, head, width, classes):
        super().__init__()
        cfg = [v if v == "M" else channels(v, width) for v in tv_cfgs[ARCH_CFG[arch]]]
        self.features = make_layers(cfg, batch_norm=bn)
        c = cfg[-2]
        self.head = head
        if head == "gap":
            self.classifier = nn.Sequential(nn.Linear(c, classes))
        else:
            h = channels(4096, width)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(c * 49, h), nn.ReLU(True), nn.Dropout(),
                nn.Linear(h, h), nn.ReLU(True), nn.Dropout(), nn.Linear(h, classes))

    def forward(self, x):
        x = self.features(x)
        if self.head == "gap":
            return self.classifier(x.mean((2, 3)))
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def randomize(m):
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            fan_in = mod.weight[0].numel()
            nn.init.normal_(mod.weight, 0, (2.0 / fan_in) ** 0.5)
            nn.init.uniform_(mod.bias, -0.1, 0.1)
        elif isinstance(mod, nn.BatchNorm2d):  # non-trivial statistics and affine.
            nn.init.uniform_(mod.weight, 0.5, 1.5)
            nn.init.normal_(mod.bias, 0, 0.2)
            mod.running_mean.normal_(0, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.num_batches_tracked.fill_(123)


def timm_names(sd, c, h):
    out = {}
    for k, v in sd.items():
        if k.startswith("classifier.0."):
            k, v = "pre_logits.fc1." + k[13:], v.reshape(-1, c, 7, 7) if k.endswith("weight") else v
        elif k.startswith("classifier.3."):
            k, v = "pre_logits.fc2." + k[13:], v.reshape(-1, h, 1, 1) if k.endswith("weight") else v
        elif k.startswith("classifier.6."):
            k = "head.fc." + k[13:]
        out[k] = v.contiguous()
    return out


def main(out):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cases = []
    specs = [  # name, arch, bn, head, width, classes, size, formats
        ("plain_classic", "vgg11", False, "classic", 0.125, 10, 64, ["zip", "legacy", "st", "timm"]),
        ("bn_gap", "vgg11", True, "gap", 0.125, 7, 32, ["zip", "legacy", "st", "bf16"]),
        ("bn_classic", "vgg13", True, "classic", 0.0625, 1000, 32, ["legacy"]),
        ("plain_gap", "vgg13", False, "gap", 0.125, 5, 32, ["st"]),
    ]
    for name, arch, bn, head, width, classes, size, formats in specs:
        m = SmallVGG(arch, bn, head, width, classes)
        randomize(m)
        m.eval()
        imgs = rng.integers(0, 256, size=(2, size, size, 3), dtype=np.uint8)
        x = torch.from_numpy(imgs).float().permute(0, 3, 1, 2) / 255
        x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
        with torch.no_grad():
            logits = m(x).numpy().astype("<f4")
        imgs.tofile(os.path.join(out, name + ".images"))
        logits.tofile(os.path.join(out, name + ".logits"))
        sd = {k: v.contiguous() for k, v in m.state_dict().items()}
        files = {}
        for f in formats:
            path = os.path.join(out, f"{name}.{f}")
            if f == "zip":
                torch.save(sd, path)
            elif f == "legacy":
                torch.save(sd, path, _use_new_zipfile_serialization=False)
            elif f == "st":
                save_file(sd, path)
            elif f == "bf16":
                save_file({k: v.bfloat16() if v.is_floating_point() else v for k, v in sd.items()}, path)
            elif f == "timm":
                save_file(timm_names(sd, channels(512, width), channels(4096, width)), path)
            files[f] = path
        cases.append(dict(name=name, arch=arch, bn=bn, head=head, width=width, classes=classes,
                          size=size, files=files, max_logit=float(np.abs(logits).max())))
    # Full-width torchvision models: names and shapes only (their weights are ~500 MB).
    import torchvision.models as tvm
    full = {}
    for n in ["vgg11", "vgg11_bn"]:
        sd = getattr(tvm, n)(num_classes=10).state_dict()
        full[n] = {k: list(v.shape) for k, v in sd.items()}
    json.dump(dict(cases=cases, full=full), open(os.path.join(out, "cases.json"), "w"))


if __name__ == "__main__":
    main(sys.argv[1])
