#!/usr/bin/python3
"""Writes the small ONNX models of the codegen lit tests (run it here to
regenerate them; the .onnx files are checked in).

maxpool_s2.onnx: x f32[1,1,4,64] -> y = MaxPool(x, kernel 1x2, stride 1x2)
f32[1,1,4,32]: each output row reads every second input element, twice
(offsets 0 and 1).

conv1x1_128.onnx: x f32[1,128,4,4] -> y = Conv(x, W) with W f32[128,128,1,1]
= ConstantOfShape(0.5), folded at compile time: a weight panel of 64 KB, past
L1, streamed by the register tiles (software prefetch).
"""
import onnx
from onnx import TensorProto, helper

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 64])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 32])
graph = helper.make_graph(
    [helper.make_node("MaxPool", ["x"], ["y"], name="pool",
                      kernel_shape=[1, 2], strides=[1, 2])],
    "maxpool_s2", [x], [y])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, "maxpool_s2.onnx")


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 128, 4, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 128, 4, 4])
shape = helper.make_tensor("wshape", TensorProto.INT64, [4], [128, 128, 1, 1])
half = helper.make_tensor("half", TensorProto.FLOAT, [1], [0.5])
graph = helper.make_graph(
    [helper.make_node("ConstantOfShape", ["wshape"], ["w"], name="weights",
                      value=half),
     helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
    "conv1x1_128", [x], [y], [shape])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, "conv1x1_128.onnx")
