#!/usr/bin/env python3
"""Quantise SFace to int8 (static, calibrated) with ONNX Runtime's own quantisation tool.

Calibration faces: every picture of ``shared/face-eval/bbt`` and ``shared/face-eval/portraits``
(never ORL, on which the result is judged), found with YuNet and aligned with OpenCV's
FaceDetectorYN and FaceRecognizerSF.alignCrop exactly as the kiosk does, each in colour and in
greyscale (the chip photo is grey). The model quantised is the kiosk's, SFace with its PRelu
split (``models/fetch.py``), so that the int8 graph has no PRelu to leave int8 for. Weights
int8 per output channel, activations uint8 with ranges at the 0.01/99.99 percentiles of the
calibration activations (MinMax ranges, stretched by rare outliers, lost more: mean cosine to
the fp32 embedding 0.946 against 0.971 on the calibration faces), QDQ format. The result is written to ``models/generated/`` with its sha256 printed;
``models/README.md`` says whether the kiosk uses it.

Usage (venv of ``models/requirements-quantise.txt``)::

    .cache/quantise-venv/bin/python models/quantise_sface.py          # quantise
    .cache/quantise-venv/bin/python models/quantise_sface.py --time   # fp32 vs int8 speed
"""

from __future__ import annotations

import hashlib
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
FACE_EVAL = ROOT.parent.parent / "shared" / "face-eval"
CALIBRATION_SETS = ("bbt", "portraits")


def calibration_inputs() -> list[np.ndarray]:
    """SFace inputs (1×3×112×112 RGB float 0..255) of every calibration face, colour and grey."""
    recogniser = cv2.FaceRecognizerSF.create(str(SFACE), "")
    inputs = []
    for name in CALIBRATION_SETS:
        for path in sorted((FACE_EVAL / name).rglob("*")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
            if image is None:
                continue
            height, width = image.shape[:2]
            detector = cv2.FaceDetectorYN.create(str(YUNET), "", (width, height), 0.6, 0.3, 5000)
            detector.setInputSize((width, height))
            _, faces = detector.detect(image)
            if faces is None:
                print(f"quantise: no face in {path.relative_to(FACE_EVAL)}", file=sys.stderr)
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


def time_both(runs: int = 60) -> None:
    """Mean ms per face of the folded, the PRelu-split and the int8 SFace, 2 threads, runs
    interleaved in one process."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sessions = {path.name: onnxruntime.InferenceSession(str(path), options,
                                                        providers=["CPUExecutionProvider"])
                for path in (SFACE, SFACE_SPLIT, OUTPUT)}
    face = {"data": calibration_inputs()[0]}
    totals = dict.fromkeys(sessions, 0.0)
    for run in range(runs + 1):
        for name, session in sessions.items():
            started = time.perf_counter()
            session.run(None, face)
            if run > 0:
                totals[name] += time.perf_counter() - started
    for name, total in totals.items():
        print(f"quantise: {name}: {total * 1000 / runs:.1f} ms per face")


def main() -> int:
    if sys.argv[1:] == ["--time"]:
        time_both()
        return 0
    inputs = calibration_inputs()
    print(f"quantise: {len(inputs)} calibration inputs from {', '.join(CALIBRATION_SETS)}")
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "sface_prepared.onnx"
        quant_pre_process(str(SFACE_SPLIT), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(OUTPUT),
            Faces(inputs),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.Percentile,
            extra_options={"CalibPercentile": 99.99},
        )
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"quantise: {OUTPUT.relative_to(ROOT)}: {OUTPUT.stat().st_size:,} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
