"""Make ``app/distill/data/digits.npz`` once, from scikit-learn's copy of the digits.

The demos train on the 8x8 handwritten digits: 1,797 images of 10 classes, the test
part of the UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin,
C. Kaynak, 1998; https://doi.org/10.24432/C50P49), licensed CC BY 4.0.
scikit-learn ships that file as ``sklearn.datasets.load_digits``; this script copies
it into a small compressed ``.npz`` (46 kB) so that the app itself never needs
scikit-learn (about 50 MB installed, and SciPy, about 140 MB, with it: weight a Docker
image would carry for one 8x8 array) and never downloads anything at run time.

Run it once, with scikit-learn importable (it is not a dependency of the app)::

    pip install scikit-learn && python scripts/make_digits.py

Writes ``images`` (uint8, N x 8 x 8, values 0..16), ``labels`` (uint8, N) and
``credit`` (a one-element string array) and prints the SHA-256 of the arrays.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "app" / "distill" / "data" / "digits.npz"
CREDIT = (
    "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak, 1998), "
    "doi:10.24432/C50P49, CC BY 4.0; the 1,797 8x8 images that scikit-learn's "
    "load_digits ships."
)


def main() -> int:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("scikit-learn is needed once to make the file: pip install scikit-learn",
              file=sys.stderr)
        return 2
    digits = load_digits()
    images = digits.images.astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    if images.shape != (1797, 8, 8) or not np.array_equal(images, digits.images):
        print(f"unexpected digits data: {images.shape}", file=sys.stderr)
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, images=images, labels=labels, credit=np.array([CREDIT]))
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes), sha256 of arrays {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
