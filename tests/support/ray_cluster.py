"""A local Ray cluster owned by the test session: `ray.cluster_utils.Cluster`,
token auth on (as Ray >= 2.59 has it by default), never `ray start`/`ray stop`
(`ray stop` ends every Ray process on the machine, not only ours). Skipped
where ray is not installed, a failure under CI."""

from __future__ import annotations

import contextlib
import os
import secrets

import pytest

from support.servers import ROOT, TESTS


def need_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is missing: pip install -e '.[scale]' (CI must run these tests)")
        pytest.skip("ray is missing: pip install -e '.[scale]'")


class RayCluster:
    def __init__(self, nodes: int = 1, cpus_per_node: int = 2):
        self.token = secrets.token_hex(24)
        # Every Ray process (head, workers) and every replica gets the same token,
        # and the workers can import the project and the fake trainers.
        self.env = {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": self.token,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)]),
            "RAY_DEDUP_LOGS": "0",
        }
        # Ray reads its auth settings once, when first imported: set them before,
        # and keep them while the cluster lives (this process starts its nodes).
        self._saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        need_ray()
        from ray.cluster_utils import Cluster

        self.cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": cpus_per_node, "include_dashboard": False},
        )
        for _ in range(nodes - 1):
            self.cluster.add_node(num_cpus=cpus_per_node)

    @property
    def address(self) -> str:
        return self.cluster.address

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.cluster.shutdown()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
