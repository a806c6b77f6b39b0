"""PP-OCRv4's recogniser and detector with their elementwise tails folded away (models/fetch.py).

PaddleOCR's PPLCNetV3 backbone follows each convolution with a learnable scale and shift
(``Mul`` and ``Add`` by one number each) and a hard swish written out as four operators
(``x · clip(x + 3, 0, 6) / 6``). ONNX Runtime runs each of those as a pass over the whole
tensor, outside its blocked (NCHWc) convolution layout. The same functions, written so that it
fuses them into the convolutions:

- a scale and shift right after a convolution become that convolution's weights and bias;
- the hard swish becomes one ``HardSwish`` operator (opset 14), which ONNX Runtime fuses into
  the convolution before it;
- a scale and shift right before unpadded convolutions become their weights and bias (before a
  padded one they stay: its zero padding would be shifted too).

The folds are exact in real arithmetic; in float32 the outputs differ by rounding (about 1e-6).
"""

from __future__ import annotations

from collections import defaultdict

OPSET = 14  # the first with HardSwish


def fuse(graph, values: dict) -> tuple[int, int, int]:
    """Rewrites `graph` (converted to opset ``OPSET``; `values`: its constants by name) in
    place; returns (scales after, hard swishes, scales before)."""
    after = _fold_after_convolutions(graph, values)
    swishes = _hard_swishes(graph, values)
    before = _fold_before_convolutions(graph, values)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = [n for n in graph.node if n.op_type != "Constant" or n.output[0] in used]
    del graph.node[:]
    graph.node.extend(nodes)
    return after, swishes, before


def _scalar(values: dict, name: str) -> float | None:
    value = values.get(name)
    return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None


def _consumers(graph) -> dict:
    users = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            users[name].append(node)
    for output in graph.output:
        users[output.name].append(None)  # a graph output is never folded away
    return users


def _sole_user(users: dict, name: str, op_type: str):
    """The only node reading `name`, if it is an `op_type`."""
    found = users[name]
    if len(found) == 1 and found[0] is not None and found[0].op_type == op_type:
        return found[0]
    return None


def _scale_and_shift(users: dict, values: dict, mul) -> tuple[float, float, object] | None:
    """(s, b, last node) of `Mul(x, s)`, followed by `Add(·, b)` if it is its only reader."""
    scale = [_scalar(values, i) for i in mul.input]
    if sum(s is not None for s in scale) != 1:
        return None
    s = next(v for v in scale if v is not None)
    add = _sole_user(users, mul.output[0], "Add")
    if add is not None:
        shift = [_scalar(values, i) for i in add.input if i != mul.output[0]]
        if len(shift) == 1 and shift[0] is not None:
            return s, shift[0], add
    return s, 0.0, mul


def _set_weights(graph, values: dict, conv, x: str, weights, bias, tag: str) -> None:
    from onnx import numpy_helper

    base = f"{conv.output[0]}_{tag}"
    names = (f"{base}_w", f"{base}_b")
    for name, array in zip(names, (weights, bias)):
        graph.initializer.append(numpy_helper.from_array(array, name))
        values[name] = array
    del conv.input[:]
    conv.input.extend([x, *names])


def _constant_weights(conv, values: dict) -> bool:
    """Whether the weights and bias (if any) of `conv` are constants."""
    return all(name in values for name in conv.input[1:] if name)


def _weights(values: dict, conv):
    import numpy as np

    w = values[conv.input[1]].astype(np.float64)
    has_bias = len(conv.input) > 2 and conv.input[2]
    b = values[conv.input[2]].astype(np.float64) if has_bias else np.zeros(w.shape[0])
    return w, b


def _fold_after_convolutions(graph, values: dict) -> int:
    """Conv → Mul(s) [→ Add(b)] becomes one Conv with weights s·W and bias s·B + b."""
    import numpy as np

    users, gone, count = _consumers(graph), [], 0
    for conv in graph.node:
        if conv.op_type != "Conv" or not _constant_weights(conv, values):
            continue
        mul = _sole_user(users, conv.output[0], "Mul")
        found = mul and _scale_and_shift(users, values, mul)
        if not found:
            continue
        s, b, last = found
        w, bias = _weights(values, conv)
        _set_weights(graph, values, conv, conv.input[0],
                     (w * s).astype(np.float32), (bias * s + b).astype(np.float32), "scaled")
        gone += [mul] if last is mul else [mul, last]
        conv.output[0] = last.output[0]
        count += 1
    for node in gone:
        graph.node.remove(node)
    return count


def _hard_swishes(graph, values: dict) -> int:
    """Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6) becomes HardSwish(x)."""
    from onnx import helper

    users = _consumers(graph)
    made = {o: n for n in graph.node for o in n.output}
    nodes, gone, count = [], set(), 0
    for div in graph.node:
        mul = made.get(div.input[0]) if div.op_type == "Div" else None
        if mul is None or mul.op_type != "Mul" or _scalar(values, div.input[1]) != 6.0:
            nodes.append(div)
            continue
        match = None
        for x, other in ((mul.input[0], mul.input[1]), (mul.input[1], mul.input[0])):
            clip = made.get(other)
            add = clip is not None and clip.op_type == "Clip" and made.get(clip.input[0])
            if (add and add.op_type == "Add" and x in add.input
                    and [_scalar(values, i) for i in clip.input[1:]] == [0.0, 6.0]
                    and _scalar(values, next((i for i in add.input if i != x), "")) == 3.0
                    and all(len(users[n.output[0]]) == 1 for n in (add, clip, mul))):
                match = x, (add, clip, mul)
        if match is None:
            nodes.append(div)
            continue
        x, parts = match
        gone.update(id(n) for n in parts)
        nodes.append(helper.make_node("HardSwish", [x], [div.output[0]], name=f"{div.output[0]}_hard_swish"))
        count += 1
    del graph.node[:]
    graph.node.extend(n for n in nodes if id(n) not in gone)
    return count


def _unpadded(conv) -> bool:
    from onnx import helper

    for attribute in conv.attribute:
        value = helper.get_attribute_value(attribute)
        if attribute.name == "pads" and any(value):
            return False
        if attribute.name == "auto_pad" and value not in (b"", b"NOTSET", b"VALID"):
            return False
    return True


def _fold_before_convolutions(graph, values: dict) -> int:
    """Mul(x, s) [→ Add(b)] read only by unpadded Convs becomes their weights s·W and bias
    B + b·ΣW."""
    import numpy as np

    users, gone, count = _consumers(graph), [], 0
    for mul in graph.node:
        found = mul.op_type == "Mul" and _scale_and_shift(users, values, mul)
        if not found:
            continue
        s, b, last = found
        x = next(i for i in mul.input if _scalar(values, i) is None)
        convs = users[last.output[0]]
        if not all(c is not None and c.op_type == "Conv" and c.input[0] == last.output[0]
                   and _constant_weights(c, values) and _unpadded(c) for c in convs):
            continue
        for conv in convs:
            w, bias = _weights(values, conv)
            _set_weights(graph, values, conv, x, (w * s).astype(np.float32),
                         (bias + b * w.sum(axis=(1, 2, 3))).astype(np.float32), "prescaled")
        gone += [mul] if last is mul else [mul, last]
        count += 1
    for node in gone:
        graph.node.remove(node)
    return count
