"""The arithmetic the face pipeline cannot go below: multiply-adds of YuNet and SFace at the
input sizes `face_bench` runs them at, and the machine's own fp32 rate on a large matrix
product (numpy's OpenBLAS), which small convolutions never beat.

    .cache/quantise-venv/bin/python face-match/benches/compute_floor.py [--threads 2]

Counts Conv, Gemm and MatMul (2 FLOP per multiply-add) on the graphs ONNX Runtime folds at its
basic level, so the constant-weight subgraphs of the folded files do not count.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models" / "generated"
YUNET = MODELS / "face_detection_yunet_2023mar_any_size.onnx"
SFACE = MODELS / "face_recognition_sface_2021dec.onnx"


def folded(path: Path, directory: str):
    """The model at `path` as ONNX Runtime's basic optimisation leaves it (constants folded)."""
    import onnx
    import onnxruntime as ort

    out = os.path.join(directory, path.name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = out
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return onnx.load(out)


def gflop(model, height: int, width: int) -> float:
    """GFLOP of one run of `model` on a 1×3×height×width input."""
    import onnx
    from onnx import shape_inference

    model = onnx.ModelProto.FromString(model.SerializeToString())
    for dim, value in zip(model.graph.input[0].type.tensor_type.shape.dim, (1, 3, height, width)):
        dim.Clear()
        dim.dim_value = value
    model = shape_inference.infer_shapes(model)
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*model.graph.value_info, *model.graph.output, *model.graph.input]
    }
    weights = {w.name: list(w.dims) for w in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        out = shapes.get(node.output[0])
        if node.op_type == "Conv":
            w = weights[node.input[1]]  # [out, in / group, kh, kw]
            total += out[1] * out[2] * out[3] * w[1] * w[2] * w[3]
        elif node.op_type in ("Gemm", "MatMul"):
            if node.input[1] not in weights:
                sys.exit(f"cannot count {node.op_type} {node.name}: its weights are no constant")
            w = weights[node.input[1]]  # [in, out], or [out, in] for a Gemm with transB
            rows = 1
            for d in out[:-1]:
                rows *= d
            total += rows * w[0] * w[1]
    return 2 * total / 1e9


def gemm_rate(threads: int) -> float:
    """fp32 GFLOP/s of numpy's 2048 × 2048 matrix product on `threads` threads (best of 10)."""
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    import numpy as np

    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(10))
    return 2 * 2048**3 / best / 1e9


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rate = gemm_rate(args.threads)  # before onnxruntime loads its own thread pool
    with tempfile.TemporaryDirectory() as directory:
        yunet, sface = folded(YUNET, directory), folded(SFACE, directory)
        steps = {
            "YuNet, whole 640×480 frame": gflop(yunet, 480, 640),
            "YuNet, chip photo at 640×640": gflop(yunet, 640, 640),
            "YuNet, live frame at 320×256": gflop(yunet, 256, 320),
            "YuNet, one 288×288 square": gflop(yunet, 288, 288),
            "SFace, one 112×112 face": gflop(sface, 112, 112),
        }
    for name, value in steps.items():
        print(f"{name:32} {value:.3f} GFLOP  {value / rate * 1e3:5.2f} ms at the matrix rate")
    whole = steps["YuNet, whole 640×480 frame"] + steps["SFace, one 112×112 face"]
    # face_bench's chip decision: the chip photo detected, five squares looked at closer,
    # embedded with its mirror; the live frame detected at 320 px, five squares, embedded.
    decision = (
        steps["YuNet, chip photo at 640×640"]
        + steps["YuNet, live frame at 320×256"]
        + 10 * steps["YuNet, one 288×288 square"]
        + 3 * steps["SFace, one 112×112 face"]
    )
    print(f"fp32 matrix product, {args.threads} threads: {rate:.1f} GFLOP/s")
    print(f"whole frame (detect + embed):  {whole:.3f} GFLOP, at least {whole / rate * 1e3:.2f} ms")
    print(f"chip decision:                 {decision:.3f} GFLOP, at least {decision / rate * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
