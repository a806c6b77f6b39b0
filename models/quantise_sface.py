#!/usr/bin/env python3
"""SFace in int8 (static, calibrated) with ONNX Runtime's own quantisation tool; not used by
the kiosk (``models/README.md``, "SFace in int8": not faster than fp32 on an AVX2 CPU).

The model quantised is the kiosk's, SFace with its PRelu split (``models/fetch.py``), so that the
int8 graph has no PRelu to leave int8 for. Weights int8 per output channel, activations uint8
with ranges at the 0.01/99.99 percentiles of the calibration activations (MinMax ranges,
stretched by rare outliers, lost more: mean cosine to the fp32 embedding 0.946 against 0.971 on
the calibration faces), QDQ format. The ranges are kept in ``models/sface_int8_ranges.json``
(ONNX Runtime's calibration cache, keys sorted), so ``--quantise`` makes the same file in a
few seconds without the calibration faces. ``--calibrate`` makes the ranges anew from every
picture of ``face-eval/bbt`` and ``face-eval/portraits`` (never ORL, on which the result is
judged), found with YuNet and aligned with OpenCV's FaceDetectorYN and
FaceRecognizerSF.alignCrop exactly as the kiosk does, each in colour and in greyscale (the chip
photo is grey).

Usage (venv of ``models/requirements-quantise.txt``; FACE_EVAL holds bbt/ and portraits/)::

    .cache/quantise-venv/bin/python models/quantise_sface.py --quantise
    .cache/quantise-venv/bin/python models/quantise_sface.py --calibrate FACE_EVAL
    .cache/quantise-venv/bin/python models/quantise_sface.py --time FACE_EVAL  # fp32 vs int8
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "models" / "generated"
YUNET = GENERATED / "face_detection_yunet_2023mar_any_size.onnx"
SFACE = GENERATED / "face_recognition_sface_2021dec.onnx"
SFACE_SPLIT = GENERATED / "face_recognition_sface_2021dec_prelu_split.onnx"
OUTPUT = GENERATED / "face_recognition_sface_2021dec_int8.onnx"
RANGES = ROOT / "models" / "sface_int8_ranges.json"
CALIBRATION_SETS = ("bbt", "portraits")


def calibration_inputs(face_eval: Path) -> list[np.ndarray]:
    """SFace inputs (1×3×112×112 RGB float 0..255) of every calibration face, colour and grey."""
    recogniser = cv2.FaceRecognizerSF.create(str(SFACE), "")
    inputs = []
    for name in CALIBRATION_SETS:
        for path in sorted((face_eval / name).rglob("*")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
            if image is None:
                continue
            height, width = image.shape[:2]
            detector = cv2.FaceDetectorYN.create(str(YUNET), "", (width, height), 0.6, 0.3, 5000)
            detector.setInputSize((width, height))
            _, faces = detector.detect(image)
            if faces is None:
                print(f"quantise: no face in {path.relative_to(face_eval)}", file=sys.stderr)
                continue
            face = max(faces, key=lambda f: f[2])
            crop = recogniser.alignCrop(image, face)
            grey = cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
            for bgr in (crop, grey):
                rgb = bgr[:, :, ::-1].astype(np.float32)
                inputs.append(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]))
    return inputs


class Faces(CalibrationDataReader):
    """Feeds the calibration faces to the calibrator one by one."""

    def __init__(self, inputs: list[np.ndarray]):
        self.items = iter([{"data": x} for x in inputs])

    def get_next(self):
        return next(self.items, None)


def quantise_int8(output: Path, ranges: Path, faces=None) -> None:
    """Quantises the PRelu-split SFace into `output` with the activation ranges of `ranges`
    (ONNX Runtime's calibration cache); with `faces` and no `ranges` file yet, ONNX Runtime
    calibrates them first and writes that file."""
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "sface_prepared.onnx"
        quant_pre_process(str(SFACE_SPLIT), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(output),
            faces,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.Percentile,
            extra_options={"CalibPercentile": 99.99},
            calibration_cache_path=str(ranges),
        )


def time_both(face_eval: Path, runs: int = 60) -> None:
    """Mean ms per face of the folded, the PRelu-split and the int8 SFace, 2 threads, runs
    interleaved in one process."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sessions = {path.name: onnxruntime.InferenceSession(str(path), options,
                                                        providers=["CPUExecutionProvider"])
                for path in (SFACE, SFACE_SPLIT, OUTPUT)}
    face = {"data": calibration_inputs(face_eval)[0]}
    totals = dict.fromkeys(sessions, 0.0)
    for run in range(runs + 1):
        for name, session in sessions.items():
            started = time.perf_counter()
            session.run(None, face)
            if run > 0:
                totals[name] += time.perf_counter() - started
    for name, total in totals.items():
        print(f"quantise: {name}: {total * 1000 / runs:.1f} ms per face")


def calibrate(face_eval: Path) -> None:
    """Calibrates the ranges anew into RANGES, keys sorted (ONNX Runtime writes them in a
    set's order), and quantises with them."""
    inputs = calibration_inputs(face_eval)
    print(f"quantise: {len(inputs)} calibration inputs from {', '.join(CALIBRATION_SETS)}")
    with tempfile.TemporaryDirectory() as tmp:
        ranges = Path(tmp) / "ranges.json"
        quantise_int8(Path(tmp) / OUTPUT.name, ranges, Faces(inputs))
        canonical = json.dumps(json.loads(ranges.read_text()), sort_keys=True, indent=1)
    RANGES.write_text(canonical + "\n")
    print(f"quantise: {RANGES.relative_to(ROOT)} written")
    quantise()


def quantise() -> None:
    """Makes OUTPUT from the PRelu-split SFace and the ranges in RANGES."""
    quantise_int8(OUTPUT, RANGES)
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"quantise: {OUTPUT.relative_to(ROOT)}: {OUTPUT.stat().st_size:,} bytes, sha256 {digest}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--quantise", action="store_true", help="int8 from the kept ranges")
    action.add_argument("--calibrate", type=Path, metavar="FACE_EVAL",
                        help="calibrate the ranges anew on FACE_EVAL/bbt and /portraits")
    action.add_argument("--time", type=Path, metavar="FACE_EVAL",
                        help="time fp32 and int8 on a face of FACE_EVAL")
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.calibrate)
    elif args.time:
        time_both(args.time)
    else:
        quantise()
    return 0


if __name__ == "__main__":
    sys.exit(main())
