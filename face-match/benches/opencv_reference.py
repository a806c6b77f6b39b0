"""OpenCV's own face pipeline on the frames the Rust benchmark uses, for a side-by-side run.

Usage: opencv_reference.py YUNET.onnx SFACE.onnx THREADS RUNS FRAME.png...
Prints one JSON object: mean milliseconds per frame for detect, align and embed, and the
cosine score of the first frame's face against every frame's face.
"""
import json
import sys
import time

import cv2


def main():
    yunet, sface, threads, runs, *paths = sys.argv[1:]
    cv2.setNumThreads(int(threads))
    images = [cv2.imread(p, cv2.IMREAD_COLOR) for p in paths]
    height, width = images[0].shape[:2]
    detector = cv2.FaceDetectorYN.create(yunet, "", (width, height), 0.6, 0.3, 5000)
    recognizer = cv2.FaceRecognizerSF.create(sface, "")
    totals = {"detect": 0.0, "align": 0.0, "embed": 0.0}
    features = []
    for run in range(int(runs) + 1):
        for image in images:
            started = time.perf_counter()
            detector.setInputSize((image.shape[1], image.shape[0]))
            _, faces = detector.detect(image)
            detected = time.perf_counter()
            face = max(faces, key=lambda f: f[2])
            crop = recognizer.alignCrop(image, face)
            aligned = time.perf_counter()
            feature = recognizer.feature(crop)
            embedded = time.perf_counter()
            if run == 0:
                # The first round warms up and collects the features.
                features.append(feature)
                continue
            totals["detect"] += detected - started
            totals["align"] += aligned - detected
            totals["embed"] += embedded - aligned
    count = int(runs) * len(images)
    result = {k: v * 1000.0 / count for k, v in totals.items()}
    result["scores"] = [
        recognizer.match(features[0], f, cv2.FaceRecognizerSF_FR_COSINE) for f in features
    ]
    result["opencv"] = cv2.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
