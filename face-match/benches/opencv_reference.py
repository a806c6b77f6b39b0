"""OpenCV's own face pipeline on the frames the Rust benchmark uses, for a side-by-side run.

Usage: opencv_reference.py YUNET.onnx SFACE.onnx THREADS FRAME.png...
After a warm-up round it prints one JSON line: the OpenCV version and the cosine score of the
first frame's face against every frame's face. Then, for every line read on stdin, it runs one
timed round over the frames and prints one JSON line: the mean milliseconds per frame of
detect, align and embed in that round. The caller interleaves these rounds with its own, so
both sides see the same machine load.
"""
import json
import sys
import time

import cv2


def main():
    yunet, sface, threads, *paths = sys.argv[1:]
    cv2.setNumThreads(int(threads))
    images = [cv2.imread(p, cv2.IMREAD_COLOR) for p in paths]
    height, width = images[0].shape[:2]
    detector = cv2.FaceDetectorYN.create(yunet, "", (width, height), 0.6, 0.3, 5000)
    recognizer = cv2.FaceRecognizerSF.create(sface, "")

    def round_over_frames():
        totals = {"detect": 0.0, "align": 0.0, "embed": 0.0}
        features = []
        for image in images:
            started = time.perf_counter()
            detector.setInputSize((image.shape[1], image.shape[0]))
            _, faces = detector.detect(image)
            detected = time.perf_counter()
            face = max(faces, key=lambda f: f[2])
            crop = recognizer.alignCrop(image, face)
            aligned = time.perf_counter()
            features.append(recognizer.feature(crop))
            embedded = time.perf_counter()
            totals["detect"] += detected - started
            totals["align"] += aligned - detected
            totals["embed"] += embedded - aligned
        return {k: v * 1000.0 / len(images) for k, v in totals.items()}, features

    _, features = round_over_frames()
    scores = [recognizer.match(features[0], f, cv2.FaceRecognizerSF_FR_COSINE) for f in features]
    print(json.dumps({"opencv": cv2.__version__, "scores": scores}), flush=True)
    for _ in sys.stdin:
        timings, _ = round_over_frames()
        print(json.dumps(timings), flush=True)


if __name__ == "__main__":
    main()
