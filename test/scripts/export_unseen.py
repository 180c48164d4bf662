#!/usr/bin/python3
"""Exports models that no schedule of Tidal was tuned on, for `make bench`:
torchvision's image classifiers outside the reference set
(../shared/models/export.py), at several opsets, in the same layout:

    OUT/<name>/model.onnx
    OUT/<name>/test_data_set_0/input_0.pb    seeded random input
    OUT/<name>/test_data_set_0/output_0.pb   PyTorch's output for it

They bring what the reference set lacks: squeeze-and-excitation blocks and
SiLU / hard-swish (mobilenet_v3, efficientnet, regnet), grouped
convolutions (resnext, regnet), channel shuffles (shufflenet), 5x5
depthwise convolutions (mnasnet, efficientnet), long chains of Concat
(densenet, googlenet), 11x11 and 5x5 dense kernels and large Gemms
(alexnet). Weights are random (seeded), never downloaded; batch 1, static
shapes. Usage (Debian's interpreter):

    /usr/bin/python3 export_unseen.py OUT [NAME...]
"""
import os
import sys

# (torchvision name, opset): opsets from 9 to 17, as other exporters write.
MODELS = [
    ("mobilenet_v3_small", 11),
    ("mobilenet_v3_large", 17),
    ("shufflenet_v2_x1_0", 13),
    ("efficientnet_b0", 13),
    ("googlenet", 11),
    ("densenet121", 13),
    ("regnet_y_400mf", 17),
    ("resnext50_32x4d", 13),
    ("mnasnet1_0", 11),
    ("squeezenet1_0", 9),
    ("alexnet", 13),
    ("resnet34", 17),
]

NAMES = [name for name, _ in MODELS]


def export(out, name, opset):
    import torch
    import torchvision
    from onnx import numpy_helper
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    data = os.path.join(out, name, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    with torch.no_grad():
        y = model(x)
        torch.onnx.export(model, x, os.path.join(out, name, "model.onnx"),
                          opset_version=opset, input_names=["input"],
                          output_names=["output"])
    for kind, t in (("input", x), ("output", y)):
        with open(os.path.join(data, kind + "_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(t.numpy(), kind).SerializeToString())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    wanted = sys.argv[2:] or NAMES
    unknown = [n for n in wanted if n not in NAMES]
    if unknown:
        sys.exit("unknown model(s): %s (known: %s)" % (", ".join(unknown), ", ".join(NAMES)))
    for name, opset in MODELS:
        if name in wanted:
            export(sys.argv[1], name, opset)
            print("exported %s (opset %d)" % (name, opset), flush=True)


if __name__ == "__main__":
    main()
