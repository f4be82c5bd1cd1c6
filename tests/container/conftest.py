"""The images, built once per session on a real Docker engine (tests/support/
containers.py): the one-machine image and EXTRAS=scale, which deploy/compose.yaml
names `kd-notes:scale`. Build times are kept for the report at the end."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.container, pytest.mark.slow]

ONE_MACHINE = "kd-notes:test"
SCALE = "kd-notes:scale"


@pytest.fixture(scope="session")
def engine():
    from support.containers import need_engine

    client = need_engine()
    yield client
    client.close()


def _built(engine, tag: str, extras: str) -> str:
    from support.containers import FIGURES, build_image

    seconds = build_image(engine, tag, extras)
    mb = engine.images.get(tag).attrs["Size"] / 1e6
    FIGURES[tag] = f"built (or found in the layer cache) in {seconds:.0f} s, {mb:.0f} MB"
    return tag


@pytest.fixture(scope="session")
def one_machine_image(engine) -> str:
    return _built(engine, ONE_MACHINE, "")


#: The scale image and the Compose stack run wherever an engine answers (under CI
#: always): on a busy 2-core machine the scale build on top of the shared torch layer
#: took 4.5-10 min and the Compose tests 6.5-7 min, within CI's limit.
@pytest.fixture(scope="session")
def scale_image(engine) -> str:
    return _built(engine, SCALE, "scale")


def pytest_terminal_summary(terminalreporter) -> None:
    from support.containers import FIGURES

    for name, figure in FIGURES.items():
        terminalreporter.write_line(f"container figures: {name}: {figure}")
