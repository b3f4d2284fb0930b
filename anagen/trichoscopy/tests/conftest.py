import numpy as np
import pytest

from anagen.trichoscopy import Profile
from anagen.trichoscopy.synthetic import generate_scalp


@pytest.fixture(scope="session")
def calibrated():
    return Profile(name="synthetic-200", px_per_mm=200.0)


@pytest.fixture(scope="session")
def sample():
    return generate_scalp(seed=7, n_hairs=16)


@pytest.fixture()
def jpeg_bytes(sample):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(sample.image).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def rgb(h=64, w=80, value=180):
    return np.full((h, w, 3), value, dtype=np.uint8)
