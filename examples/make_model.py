#!/usr/bin/python3
"""Writes examples/classifier.onnx, the tiny model `make` compiles and runs,
and examples/expected_output.txt, what examples/main.c must print for it.

The model is a small image classifier with fixed, seeded weights:

    image f32[1,1,8,8] -> Conv 4x3x3 (pad 1) + bias -> Relu -> MaxPool 2x2
      -> Flatten f32[1,64] -> Gemm (10 classes) -> Softmax -> probs f32[1,10]

The expected output is computed here with numpy, independently of Tidal,
for the same input main.c builds: pixel i = ((i * 37) % 17) / 16 - 0.5.

    /usr/bin/python3 examples/make_model.py      (needs python3-onnx, numpy)

The same seed gives byte-identical files, so re-running it changes nothing.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
H = W = 8
CHANNELS, CLASSES = 4, 10


def weights():
    rng = np.random.default_rng(7)
    conv_w = rng.normal(0, 0.5, (CHANNELS, 1, 3, 3)).astype(np.float32)
    conv_b = rng.normal(0, 0.1, (CHANNELS,)).astype(np.float32)
    fc_w = rng.normal(0, 0.3, (CLASSES, CHANNELS * (H // 2) * (W // 2))).astype(np.float32)
    fc_b = rng.normal(0, 0.1, (CLASSES,)).astype(np.float32)
    return conv_w, conv_b, fc_w, fc_b


def build(conv_w, conv_b, fc_w, fc_b):
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((conv_w, "conv_w"), (conv_b, "conv_b"), (fc_w, "fc_w"), (fc_b, "fc_b"))]
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, H, W])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, CLASSES])],
        inits)
    model = helper.make_model(graph, producer_name="tidal-examples",
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return model


def example_input():
    i = np.arange(H * W)
    return (((i * 37) % 17) / 16.0 - 0.5).astype(np.float32).reshape(1, 1, H, W)


def reference(x, conv_w, conv_b, fc_w, fc_b):
    """The model computed directly, in float64."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    c = np.zeros((1, CHANNELS, H, W))
    for k in range(CHANNELS):
        for y in range(H):
            for z in range(W):
                c[0, k, y, z] = np.sum(xp[0, 0, y:y + 3, z:z + 3] * conv_w[k, 0]) + conv_b[k]
    r = np.maximum(c, 0)
    p = r.reshape(1, CHANNELS, H // 2, 2, W // 2, 2).max(axis=(3, 5))
    logits = p.reshape(1, -1) @ fc_w.T.astype(np.float64) + fc_b
    e = np.exp(logits - logits.max())
    return (e / e.sum())[0]


def main():
    ws = weights()
    onnx.save(build(*ws), os.path.join(HERE, "classifier.onnx"))
    probs = reference(example_input(), *ws)
    with open(os.path.join(HERE, "expected_output.txt"), "w") as f:
        for k, p in enumerate(probs):
            f.write("class %d: %.6f\n" % (k, p))
        f.write("predicted class: %d\n" % int(np.argmax(probs)))


if __name__ == "__main__":
    main()
