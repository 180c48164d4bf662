#!/usr/bin/python3
"""`tidalc info --layers / --json / --memory-map` (docs/cli.md), checked
against what the compile writes and against the ONNX model itself:

- the JSON's workspace and weights sizes are the header's
  <NAME>_WORKSPACE_SIZE and <NAME>_WEIGHTS_SIZE of `tidalc compile`;
- the plan is valid: every buffer 64-byte aligned and inside the
  workspace, and no two buffers whose lifetimes (calls first..last)
  overlap share a byte;
- the lower bound is no more than the workspace, and the workspace is
  within 5% of it (issue 8's criterion), for every model checked;
- the MACs of the layers add up to those of the model's Conv, Gemm,
  MatMul and ConvTranspose nodes, counted here from the ONNX shapes
  (onnx.shape_inference), and every such node is named by one layer;
- the text table has a row per layer and the summary line, and the SVG
  parses, draws one rectangle per buffer and is the same bytes twice;
- random graphs of convolutions, additions, concatenations and branches
  (seeded) compile to plans that pass the same checks and run correctly
  (`tidalc run --compare` against numpy), where a buffer
  placed over a live one would show as a wrong output.

    info_layers.py [--names ic_resnet8,...] [--random 20] [--seed 1]
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

MAC_OPS = ("Conv", "Gemm", "MatMul", "ConvTranspose")


def info_json(args, model, extra=()):
    r = tt.checked([args.tidalc, "info", model, "--json"] + list(extra),
                   "tidalc info --json " + model)
    return json.loads(r.out)


def header_macro(path, name):
    with open(path) as f:
        m = re.search(r"#define\s+\w+_%s\s+\(?(\d+)" % name, f.read())
    tt.expect(m is not None, "%s: no _%s macro" % (path, name))
    return int(m.group(1))


def check_plan(label, info):
    ws = info["workspace"]
    size, bound, bufs = ws["size"], ws["lower_bound"], ws["buffers"]
    for b in bufs:
        tt.expect(b["offset"] % 64 == 0, "%s: %s at %d is not 64-byte aligned"
                  % (label, b["label"], b["offset"]))
        tt.expect(0 <= b["offset"] and b["offset"] + b["size"] <= size,
                  "%s: %s [%d, +%d) outside the workspace of %d bytes"
                  % (label, b["label"], b["offset"], b["size"], size))
    for i, a in enumerate(bufs):
        for b in bufs[i + 1:]:
            in_time = a["first_call"] <= b["last_call"] and b["first_call"] <= a["last_call"]
            in_bytes = (a["offset"] < b["offset"] + b["size"]
                        and b["offset"] < a["offset"] + a["size"])
            tt.expect(not (in_time and in_bytes),
                      "%s: %s and %s are live together and share bytes"
                      % (label, a["label"], b["label"]))
    tt.expect(0 <= bound <= size, "%s: lower bound %d, workspace %d" % (label, bound, size))
    tt.expect(size <= 1.05 * bound,
              "%s: workspace %d is more than 5%% above its lower bound %d"
              % (label, size, bound))
    return size, bound


def onnx_macs(model_path):
    """MACs of the model's Conv/Gemm/MatMul/ConvTranspose nodes that its
    outputs depend on, by node name."""
    import onnx
    m = onnx.shape_inference.infer_shapes(onnx.load(model_path), strict_mode=True)
    g = m.graph
    shapes = {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for t in g.initializer:
        shapes[t.name] = list(t.dims)
    # Only nodes the outputs depend on: the compiler drops the others.
    needed = {o.name for o in g.output}
    for n in reversed(g.node):
        if any(o in needed for o in n.output):
            needed.update(n.input)
    macs = {}
    for n in g.node:
        if n.op_type not in MAC_OPS or not any(o in needed for o in n.output):
            continue
        out = int(np.prod(shapes[n.output[0]]))
        a, w = shapes[n.input[0]], shapes[n.input[1]]
        if n.op_type == "Conv":
            macs[n.name] = out * int(np.prod(w[1:]))
        elif n.op_type == "ConvTranspose":
            macs[n.name] = int(np.prod(a)) * int(np.prod(w[1:]))
        elif n.op_type == "Gemm":
            trans_a = any(x.name == "transA" and x.i for x in n.attribute)
            macs[n.name] = out * a[0 if trans_a else 1]
        else:
            macs[n.name] = out * a[-1]
    return macs


def check_macs(label, model, info):
    want = onnx_macs(model)
    named = {}
    for layer in info["layers"]:
        for node in layer["nodes"].split(","):
            if node in want:
                tt.expect(node not in named, "%s: node %s in two layers" % (label, node))
                named[node] = layer
    tt.expect(set(named) == set(want), "%s: layers name %d of the %d %s nodes"
              % (label, len(named), len(want), "/".join(MAC_OPS)))
    got = sum(layer["macs"] for layer in info["layers"])
    tt.expect(got == sum(want.values()), "%s: layers count %d MACs, the model has %d"
              % (label, got, sum(want.values())))
    return got


def check_text_and_svg(args, label, model, info, work):
    r = tt.checked([args.tidalc, "info", model, "--layers"], "tidalc info --layers")
    table = r.out[r.out.index("layers: "):].splitlines()
    rows = [l for l in table if re.match(r"^\s+\d+ ", l)]
    tt.expect(len(rows) == len(info["layers"]), "%s: %d table rows for %d layers"
              % (label, len(rows), len(info["layers"])))
    tt.expect(re.search(r"^workspace: %d bytes .* lower bound %d bytes"
                        % (info["workspace"]["size"], info["workspace"]["lower_bound"]),
                        r.out, re.M), "%s: no workspace line in\n%s" % (label, r.out))
    svgs = []
    for k in range(2):
        svg = os.path.join(work, "%s-%d.svg" % (label, k))
        tt.checked([args.tidalc, "info", model, "--memory-map", svg], "--memory-map")
        with open(svg, "rb") as f:
            svgs.append(f.read())
    rects = [e for e in ET.fromstring(svgs[0]).iter("{http://www.w3.org/2000/svg}rect")
             if e.get("class") == "buffer"]
    tt.expect(len(rects) == len(info["workspace"]["buffers"]),
              "%s: the SVG draws %d buffers of %d" % (label, len(rects),
                                                       len(info["workspace"]["buffers"])))
    tt.expect(svgs[0] == svgs[1], "%s: two --memory-map runs differ" % label)


def check_model(args, label, model, work):
    info = info_json(args, model)
    obj = os.path.join(work, label + ".o")
    tt.compile_model(args.tidalc, model, obj, ["--name", "net"])
    header = obj[:-2] + ".h"
    for key, macro in (("size", "WORKSPACE_SIZE"),):
        tt.expect(info["workspace"][key] == header_macro(header, macro),
                  "%s: info's workspace %d, the header's %d"
                  % (label, info["workspace"][key], header_macro(header, macro)))
    tt.expect(info["weights_size"] == header_macro(header, "WEIGHTS_SIZE"),
              "%s: info's weights %d, the header's %d"
              % (label, info["weights_size"], header_macro(header, "WEIGHTS_SIZE")))
    size, bound = check_plan(label, info)
    macs = check_macs(label, model, info)
    check_text_and_svg(args, label, model, info, work)
    print("ok   %-16s %3d layers, %12d MACs, workspace %9d bytes, bound %9d (+%.2f%%)"
          % (label, len(info["layers"]), macs, size, bound,
             100.0 * (size - bound) / bound if bound else 0.0))


def random_graph(rng, index, x):
    """A seeded graph on 1 x C x 8 x 8 tensors: 1x1 convolutions with
    random widths, Relu, Add of equal widths, Concat along channels, with
    branches that stay live across others; two outputs. Returns the model
    and its outputs for input x, computed here with numpy."""
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []
    live = [("x", 8)]
    value = {"x": x}
    for k in range(int(rng.integers(12, 40))):
        op = rng.choice(["conv", "conv", "relu", "add", "concat"])
        name = "t%d" % k
        # Mostly one of the last few, so that chains form and branches end.
        pick = len(live) - 1 - int(rng.integers(min(len(live), 4)))
        if rng.random() < 0.2:
            pick = int(rng.integers(len(live)))
        src, c = live[pick]
        if op == "conv":
            m = int(rng.choice([4, 8, 16, 24, 40, 64]))
            w = numpy_helper.from_array(
                rng.standard_normal((m, c, 1, 1)).astype(np.float32) * 0.3, name + "_w")
            inits.append(w)
            nodes.append(helper.make_node("Conv", [src, w.name], [name], name="conv%d" % k))
            value[name] = np.einsum("mc,nchw->nmhw", numpy_helper.to_array(w)[:, :, 0, 0],
                                    value[src], dtype=np.float64).astype(np.float32)
            live.append((name, m))
        elif op == "relu":
            nodes.append(helper.make_node("Relu", [src], [name], name="relu%d" % k))
            value[name] = np.maximum(value[src], 0)
            live.append((name, c))
        elif op == "add":
            same = [t for t in live if t[1] == c and t[0] != src]
            if not same:
                continue
            other = same[int(rng.integers(len(same)))][0]
            nodes.append(helper.make_node("Add", [src, other], [name], name="add%d" % k))
            value[name] = value[src] + value[other]
            live.append((name, c))
        else:
            other, c2 = live[int(rng.integers(len(live)))]
            if c + c2 > 256:
                continue
            nodes.append(helper.make_node("Concat", [src, other], [name], axis=1,
                                          name="concat%d" % k))
            value[name] = np.concatenate([value[src], value[other]], axis=1)
            live.append((name, c + c2))
    outs = [live[-1], live[len(live) // 2]]
    if outs[0][0] == outs[1][0] or outs[1][0] == "x":
        outs = outs[:1]
    graph = helper.make_graph(
        nodes, "random%d" % index,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, c, 8, 8]) for n, c in outs],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    return model, [value[n] for n, _ in outs]


def check_random(args, work):
    import onnx
    from onnx import numpy_helper
    rng = np.random.default_rng(args.seed)
    for i in range(args.random):
        x = rng.standard_normal((1, 8, 8, 8)).astype(np.float32)
        model, outs = random_graph(rng, i, x)
        folder = os.path.join(work, "random%d" % i)
        data = os.path.join(folder, "data")
        os.makedirs(data, exist_ok=True)
        path = os.path.join(folder, "model.onnx")
        onnx.save(model, path)
        with open(os.path.join(data, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x, "x").SerializeToString())
        for k, o in enumerate(outs):
            with open(os.path.join(data, "output_%d.pb" % k), "wb") as f:
                f.write(numpy_helper.from_array(o, "y%d" % k).SerializeToString())
        info = info_json(args, path)
        size, bound = check_plan("random%d" % i, info)
        check_macs("random%d" % i, path, info)
        tt.checked([args.tidalc, "run", path, "--inputs", data, "--compare"],
                   "tidalc run --compare random%d" % i)
        print("ok   random%-10d %3d layers, %3d buffers, workspace %6d bytes, bound %6d"
              % (i, len(info["layers"]), len(info["workspace"]["buffers"]), size, bound))


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS))
    p.add_argument("--random", type=int, default=20, help="random graphs to check")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    work = tt.work_dir(args.work, "info-layers")
    check_model(args, "classifier", tt.EXAMPLE_MODEL, work)
    for name in tt.model_names(args):
        check_model(args, name, tt.reference(args.models_dir, name)[0], work)
    check_random(args, work)
    print("info-layers: every plan valid and within 5% of its lower bound")


if __name__ == "__main__":
    main()
