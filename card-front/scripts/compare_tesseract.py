#!/usr/bin/env python3
"""Reads the field crops written by `card-front fields DIR` with the Tesseract CLI and prints
how many cards' 照合番号B it reads exactly, and the time per card.

Needs Debian's tesseract-ocr and tesseract-ocr-jpn (not installed by scripts/setup.sh: the
product does not use Tesseract; this only records the comparison in card-front/README.md).

    card-front fields /tmp/fields --seed 555 --count 200
    python3 card-front/scripts/compare_tesseract.py /tmp/fields
"""
import pathlib
import re
import subprocess
import sys
import time

DIGITS = "tessedit_char_whitelist=0123456789"


def tesseract(image, lang, *config):
    args = ["tesseract", str(image), "-", "-l", lang, "--psm", "7"]
    for c in config:
        args += ["-c", c]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


def pin_b(birth, expiry, code):
    """照合番号B from the three fields' text, or None when a field does not parse."""
    b = re.search(r"(昭和|平成|令和)?(\d{1,4})年(\d{1,2})月(\d{1,2})日", birth)
    e = re.search(r"(\d{4})年", expiry)
    if not b or not e or not re.fullmatch(r"\d{4}", code):
        return None
    era, year, month, day = b.groups()
    if (era is None) != (len(year) == 4):
        return None
    return f"{int(year) % 100:02}{int(month):02}{int(day):02}{e.group(1)}{code}"


def main(folder):
    folder = pathlib.Path(folder)
    exact = wrong = rejected = 0
    start = time.monotonic()
    rows = [l.split("\t") for l in (folder / "truth.tsv").read_text().splitlines()]
    for index, truth in rows:
        read = pin_b(
            tesseract(folder / f"{index}-birth.png", "jpn"),
            tesseract(folder / f"{index}-expiry.png", "jpn"),
            tesseract(folder / f"{index}-code.png", "eng", DIGITS),
        )
        if read is None:
            rejected += 1
        elif read == truth:
            exact += 1
        else:
            wrong += 1
    n = max(len(rows), 1)
    print(f"tesseract: {exact} exact, {rejected} rejected, {wrong} wrong of {n} cards; "
          f"{1000 * (time.monotonic() - start) / n:.0f} ms per card")


if __name__ == "__main__":
    main(sys.argv[1])
