#!/usr/bin/env python3
"""Trains card-front's line recogniser and writes it as ONNX.

The recogniser reads one text line found on a rectified card (the 照合番号B lines — birth date,
expiry date, security code — and every other line, whose other characters are one class),
scaled to 32 px high, and gives per-column class probabilities for CTC
decoding (class 0 is the blank, then card_front::line_input::ALPHABET). It is a small fully
convolutional network: four 3×3 convolution stages that pool the height to one row and the
width by four (one output column per four input columns), two 1×5 convolutions along the
line for context, and a 1×1 classifier.

Data comes from the synthetic card generator through `card-front dataset` (see
card-front/scripts/train_line_model.sh, which makes the set and runs this with fixed seeds).

    train_line_model.py DATA_DIR... --out model.onnx [--steps N] [--seed S]
"""
import argparse
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import optax
from onnx import TensorProto, helper, numpy_helper

LINE_H = 32
# Kinds of lines (`card-front dataset`): the 照合番号B fields and every other text line.
FIELDS = ("birth", "expiry", "code", "other")
# Lines are stored padded to this width (card-front dataset's STORED_W).
WIDTH = 512
# Training batches mix the fields (so batch-norm statistics are those of all lines) at one
# width (one compilation): lines wider than this are not trained on (none of the birth or code
# lines, 8 % of the expiry lines, 2 % of the others).
TRAIN_W = 320
# Share of each field in a training batch.
FIELD_SHARE = (0.3, 0.3, 0.25, 0.15)
# Width of the security-code lines of the digits-first steps.
CODE_W = 128
# Lines evaluated at once (a fixed shape: one compilation per width).
EVAL_BATCH = 64
# (out channels, kernel (h, w), pool (h, w)) of each convolution stage.
STAGES = (
    (16, (3, 3), (2, 2)),
    (24, (3, 3), (2, 2)),
    (40, (3, 3), (2, 1)),
    (64, (3, 3), (4, 1)),
    (80, (1, 5), (1, 1)),
    (80, (1, 5), (1, 1)),
)
EPS = 1.0  # added to the line's grey-level standard deviation before dividing by it
BN_EPS = 1e-5


def load(dirs, alphabet):
    """Per field: images (N, 32, W) uint8, labels as lists of class indices, and widths."""
    data = {}
    for field in FIELDS:
        images, labels, widths = [], [], []
        for d in dirs:
            d = pathlib.Path(d)
            text = (d / f"{field}.txt").read_text(encoding="utf-8")
            # A set still being written, or cut short, keeps its complete lines.
            text = text[: text.rfind("\n") + 1].splitlines()
            raw = np.fromfile(d / f"{field}.u8", dtype=np.uint8)
            n = min(len(text), raw.size // (LINE_H * WIDTH))
            images.append(raw[: n * LINE_H * WIDTH].reshape(n, LINE_H, WIDTH))
            for line in text[:n]:
                label, width = line.rsplit("\t", 1)
                labels.append([alphabet.index(c) + 1 for c in label])
                widths.append(int(width))
        data[field] = (np.concatenate(images), labels, np.array(widths))
    return data


def init(key, classes):
    """Weights and biases of every convolution, batch-norm scales and shifts of the hidden
    ones, and the batch-norm running statistics (state)."""
    params, state = [], []
    cin = 1
    for i, (cout, (kh, kw), _) in enumerate(STAGES + ((classes, (1, 1), (1, 1)),)):
        key, sub = jax.random.split(key)
        fan_in = cin * kh * kw
        w = jax.random.normal(sub, (cout, cin, kh, kw)) * np.sqrt(2.0 / fan_in)
        layer = {"w": w, "b": jnp.zeros((cout,))}
        if i < len(STAGES):
            layer.update(gamma=jnp.ones((cout,)), beta=jnp.zeros((cout,)))
            state.append({"mean": jnp.zeros((cout,)), "var": jnp.ones((cout,))})
        params.append(layer)
        cin = cout
    return params, state


def normalise(x):
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    d = x - mean
    return d / (jnp.sqrt((d * d).mean(axis=(1, 2, 3), keepdims=True)) + EPS)


def conv(x, layer, kh, kw):
    x = jax.lax.conv_general_dilated(
        x, layer["w"], (1, 1), ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    return x + layer["b"][None, :, None, None]


def forward(params, state, x, train):
    """x: (B, 1, 32, W) float grey levels → logits (B, T, classes), and each batch norm's batch
    mean and variance. `train` normalises by the batch's statistics, else by `state`'s."""
    x = normalise(x)
    stats = []
    for layer, fixed, (_, (kh, kw), (ph, pw)) in zip(params[:-1], state, STAGES):
        x = conv(x, layer, kh, kw)
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        stats.append({"mean": mean, "var": var})
        if not train:
            mean, var = fixed["mean"], fixed["var"]
        scale = layer["gamma"] / jnp.sqrt(var + BN_EPS)
        x = (x - mean[None, :, None, None]) * scale[None, :, None, None] \
            + layer["beta"][None, :, None, None]
        x = jax.nn.relu(x)
        if (ph, pw) != (1, 1):
            x = jax.lax.reduce_window(
                x, -jnp.inf, jax.lax.max, (1, 1, ph, pw), (1, 1, ph, pw), "VALID")
    x = conv(x, params[-1], 1, 1)
    return jnp.transpose(x[:, :, 0, :], (0, 2, 1)), stats


def population_stats(stats_fn, params, state, train, rng, batches):
    """Each batch norm's statistics over the lines (mixed batches, as in training), from
    `batches` batches: the mean of the batch means, and the mean batch variance plus the
    variance of the batch means."""
    per_layer = [[] for _ in state]
    for _ in range(batches):
        x, _, _ = mixed(rng, train, 32, augment=False)
        for acc, st in zip(per_layer, stats_fn(params, state, x)):
            acc.append((np.asarray(st["mean"]), np.asarray(st["var"])))
    out = []
    for acc in per_layer:
        means = np.stack([m for m, _ in acc])
        variances = np.stack([v for _, v in acc])
        out.append({"mean": jnp.asarray(means.mean(0)),
                    "var": jnp.asarray(variances.mean(0) + means.var(0))})
    return out


def mixed(rng, train, size, augment):
    """A batch of lines of every field (in FIELD_SHARE), cut to TRAIN_W columns."""
    fields = rng.choice(len(FIELDS), size, p=FIELD_SHARE)
    picks = []
    for f in fields:
        images, labels = train[FIELDS[f]]
        i = rng.integers(0, len(images))
        picks.append((images[i], labels[i]))
    return make_batch(rng, picks, TRAIN_W, augment)


def field_batch(rng, images, labels, size, width, augment):
    """A batch of lines of one field, cut to `width` columns."""
    idx = rng.integers(0, len(images), size)
    return make_batch(rng, [(images[i], labels[i]) for i in idx], width, augment)


def make_batch(rng, picks, width, augment):
    """Images (B, 1, 32, width) and CTC labels and padding of (image, label) pairs."""
    size = len(picks)
    x = np.stack([image[:, :width] for image, _ in picks]).astype(np.float32)
    if augment:
        # Small shifts (rectification error), blur, contrast and noise on top of the
        # generator's.
        for i in range(size):
            dy, dx = rng.integers(-2, 3), rng.integers(-4, 5)
            x[i] = np.roll(x[i], (dy, dx), axis=(0, 1))
            if rng.random() < 0.3:
                k = rng.uniform(0.15, 0.3)
                x[i] = (1 - 2 * k) * x[i] + k * (np.roll(x[i], 1, 0) + np.roll(x[i], -1, 0))
                x[i] = (1 - 2 * k) * x[i] + k * (np.roll(x[i], 1, 1) + np.roll(x[i], -1, 1))
        x = x * rng.uniform(0.6, 1.3, (size, 1, 1)) + rng.uniform(-30, 30, (size, 1, 1))
        x = x + rng.normal(0, rng.uniform(0, 6), (size, 1, 1)) * rng.standard_normal(x.shape)
    n = max(len(label) for _, label in picks)
    lab = np.zeros((size, n), np.int32)
    pad = np.ones((size, n), np.float32)
    for k, (_, label) in enumerate(picks):
        lab[k, : len(label)] = label
        pad[k, : len(label)] = 0
    return x[:, None], lab, pad


def loss_fn(params, state, x, lab, pad, train):
    logits, _ = forward(params, state, x, train)
    lp = jnp.zeros(logits.shape[:2])
    return optax.ctc_loss(logits, lp, lab, pad, blank_id=0).mean()


def greedy(probs):
    """Best-path decode of (T, classes) → class indices without blanks and repeats."""
    best = probs.argmax(-1)
    out, prev = [], 0
    for c in best:
        if c != prev and c != 0:
            out.append(int(c))
        prev = c
    return out


def evaluate(apply, params, state, images, labels):
    right = 0
    for start in range(0, len(images), EVAL_BATCH):
        idx = np.minimum(np.arange(start, start + EVAL_BATCH), len(images) - 1)
        x = images[idx][:, :, :TRAIN_W].astype(np.float32)[:, None]
        logits = np.asarray(apply(params, state, x))
        for k, row in enumerate(logits[: len(images) - start]):
            right += greedy(row) == labels[start + k]
    return right / max(len(images), 1)


def folded(params, state):
    """The convolutions with their batch norms folded in: (w, b) per layer."""
    out = []
    for layer, stats in zip(params[:-1], state):
        scale = np.asarray(layer["gamma"]) / np.sqrt(np.asarray(stats["var"]) + BN_EPS)
        w = np.asarray(layer["w"]) * scale[:, None, None, None]
        b = (np.asarray(layer["b"]) - np.asarray(stats["mean"])) * scale + np.asarray(layer["beta"])
        out.append((w, b))
    out.append((np.asarray(params[-1]["w"]), np.asarray(params[-1]["b"])))
    return out


def export(params, state, alphabet, path):
    params = folded(params, state)
    nodes, inits = [], []
    tensor = lambda name, a: inits.append(numpy_helper.from_array(np.asarray(a, np.float32), name))
    tensor("eps", [EPS])
    nodes += [
        helper.make_node("ReduceMean", ["line"], ["mean"], axes=[1, 2, 3]),
        helper.make_node("Sub", ["line", "mean"], ["centred"]),
        helper.make_node("Mul", ["centred", "centred"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[1, 2, 3]),
        helper.make_node("Sqrt", ["var"], ["std"]),
        helper.make_node("Add", ["std", "eps"], ["den"]),
        helper.make_node("Div", ["centred", "den"], ["x0"]),
    ]
    x = "x0"
    for i, ((w, b), (_, (kh, kw), (ph, pw))) in enumerate(zip(params[:-1], STAGES)):
        tensor(f"w{i}", w)
        tensor(f"b{i}", b)
        nodes.append(helper.make_node(
            "Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[kh, kw],
            pads=[kh // 2, kw // 2, kh // 2, kw // 2]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
        if (ph, pw) != (1, 1):
            nodes.append(helper.make_node(
                "MaxPool", [x], [f"p{i}"], kernel_shape=[ph, pw], strides=[ph, pw]))
            x = f"p{i}"
    w, b = params[-1]
    tensor("wc", w)
    tensor("bc", b)
    nodes += [
        helper.make_node("Conv", [x, "wc", "bc"], ["logits"], kernel_shape=[1, 1]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "card_front_line",
        [helper.make_tensor_value_info("line", TensorProto.FLOAT, ["lines", 1, LINE_H, "width"])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT,
                                       ["lines", len(alphabet) + 1, 1, "steps"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="card-front train_line_model.py")
    model.ir_version = 8
    helper.set_model_props(model, {"alphabet": alphabet, "line_height": str(LINE_H)})
    onnx.checker.check_model(model)
    pathlib.Path(path).write_bytes(model.SerializeToString())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="+")
    ap.add_argument("--alphabet", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1.5e-3, help="peak learning rate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--digits-first", type=int, default=400,
                    help="steps on the security-code lines alone before all lines")
    ap.add_argument("--report", type=int, default=200, help="steps between progress reports")
    ap.add_argument("--holdout", type=int, default=300,
                    help="first lines per field kept for validation (of training typefaces)")
    args = ap.parse_args()

    train, held = {}, {}
    for field, (images, labels, widths) in load(args.data, args.alphabet).items():
        h = min(args.holdout, len(images) // 10)
        fits = [i for i in range(len(images)) if widths[i] <= TRAIN_W]
        held_idx, train_idx = [i for i in fits if i < h], [i for i in fits if i >= h]
        held[field] = (images[held_idx], [labels[i] for i in held_idx])
        train[field] = (images[train_idx], [labels[i] for i in train_idx])
        print(f"{field}: {len(train_idx)} training lines, {len(held_idx)} held out "
              f"({len(images) - len(fits)} wider than {TRAIN_W} left out)", flush=True)

    params, bn_state = init(jax.random.PRNGKey(args.seed), len(args.alphabet) + 1)
    opt = optax.adam(optax.cosine_decay_schedule(args.lr, args.steps, alpha=0.01))
    state = opt.init(params)
    rng = np.random.default_rng(args.seed)

    @jax.jit
    def step(params, bn_state, state, x, lab, pad):
        loss, grads = jax.value_and_grad(loss_fn)(params, bn_state, x, lab, pad, True)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    apply = jax.jit(lambda p, s, x: forward(p, s, x, train=False)[0])
    stats_fn = jax.jit(lambda p, s, x: forward(p, s, x, train=True)[1])
    start, losses = time.monotonic(), []
    for s in range(args.steps):
        # Digits first: from scratch on all lines at once, the network learns the kanji and
        # settles on guessing the digits; after the code lines alone it reads them all.
        if s < args.digits_first:
            x, lab, pad = field_batch(rng, *train["code"], args.batch, CODE_W, augment=True)
        else:
            x, lab, pad = mixed(rng, train, args.batch, augment=True)
        params, state, loss = step(params, bn_state, state, x, lab, pad)
        losses.append(float(loss))
        if (s + 1) % args.report == 0 or s + 1 == args.steps:
            bn_state = population_stats(stats_fn, params, bn_state, train, rng, batches=8)
            acc = {f: evaluate(apply, params, bn_state, *held[f]) for f in FIELDS}
            print(f"step {s + 1}: loss {np.mean(losses[-args.report:]):.4f}, held-out line "
                  "accuracy " + ", ".join(f"{f} {a:.4f}" for f, a in acc.items())
                  + f" ({time.monotonic() - start:.0f} s)", flush=True)
            # A model at every report: a run stopped early still leaves one.
            export(params, bn_state, args.alphabet, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
