#!/usr/bin/python3
"""Writes the small ONNX models of the nvptx lit tests (run it here to
regenerate them; the .onnx files are checked in).

log_rowsum.onnx: x f32[3,100] -> y = Log(x) (300 elements: two blocks of
256 threads with a guard; log comes from the device math library) and s = ReduceSum(x, axes=[1]) (three
rows: one block of 3 threads, each summing its row).
"""
import onnx
from onnx import TensorProto, helper

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 100])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 100])
s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [3])
axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
graph = helper.make_graph(
    [helper.make_node("Log", ["x"], ["y"], name="log"),
     helper.make_node("ReduceSum", ["x", "axes"], ["s"], name="rowsum", keepdims=0)],
    "log_rowsum", [x], [y, s], initializer=[axes])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, "log_rowsum.onnx")
