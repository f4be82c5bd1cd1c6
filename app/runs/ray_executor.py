"""The cluster executor: runs train in a warm pool of detached Ray actors.

The web replica admits a run into the Postgres store (queued); an idle trainer
actor anywhere in the cluster claims it from there and writes its events
straight into the store (app/runs/ray_worker.py). So a run never depends on the
replica that launched it: the actors are detached (they outlive every replica),
any replica streams any run from the store, and any replica cancels any run
through the store's cancel flag. A dead actor or node stops the run's heartbeats
and any replica's keeper fails it with the reason.

The pool: RUN_CONCURRENCY named actors `kd-trainer-<i>` in the `kd-notes`
namespace, created by whichever replica starts first (get_if_exists), each
asking for RAY_NUM_CPUS CPUs and RAY_NUM_GPUS of a GPU (a fraction: several tiny
demos share one GPU, and only GPU nodes take them). Ray restarts an actor that
dies, and the new one goes back to the queue. Only this module and
ray_worker.py import ray; the web process imports this one, never torch.
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from app.runs.executor import ActiveRun, Executor, RunSink
from app.runs.ray_worker import TrainerLoop

log = logging.getLogger(__name__)

NAMESPACE = "kd-notes"
ACTOR_PREFIX = "kd-trainer-"


class RayExecutor(Executor):
    runs_die_with_process = False
    pulls_from_store = True

    def __init__(self, settings: Any, target: str, slots: int):
        self.settings, self.target, self.slots = settings, target, slots
        self.actors: list[Any] = []

    def start(self, sink: RunSink) -> None:
        if not ray.is_initialized():
            ray.init(address=self.settings.ray_address or "auto", namespace=NAMESPACE,
                     logging_level=logging.WARNING, log_to_driver=False)  # fmt: skip
        gpus = self.settings.ray_num_gpus
        job = {
            "data_dir": str(self.settings.data_dir),
            "device": "cuda" if gpus > 0 else self.settings.device,
            "threads": self.settings.torch_threads,
        }
        actor = ray.remote(TrainerLoop)
        self.actors = [
            actor.options(
                name=f"{ACTOR_PREFIX}{i}", lifetime="detached", namespace=NAMESPACE,
                get_if_exists=True, num_cpus=self.settings.ray_num_cpus, num_gpus=gpus,
                max_restarts=-1, max_task_retries=0,
            ).remote(self.settings.store_url, self.target, job)
            for i in range(self.slots)
        ]  # fmt: skip

    def wait_warm(self, timeout: float = 60.0) -> bool:
        """Every actor has imported the trainer (tests, benchmarks)."""
        try:
            ray.get([a.ready.remote() for a in self.actors], timeout=timeout)
            return True
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
            return False

    def actor_pids(self) -> list[int]:
        return ray.get([a.ready.remote() for a in self.actors], timeout=30)

    def launch(self, run: ActiveRun, job: dict[str, Any]) -> None:
        raise AssertionError("cluster runs are claimed from the store, not launched")

    def kill(self, run: ActiveRun) -> None:
        raise AssertionError("cluster runs are cancelled through the store")

    def stop(self) -> None:
        """Disconnect; the detached actors, and the runs they train, carry on."""
        if ray.is_initialized():
            ray.shutdown()


def shutdown_pool(address: str | None = None, slots: int = 64) -> int:
    """End the trainer actors (an operator's tool, and tests); how many ended."""
    ended = 0
    for i in range(slots):
        try:
            ray.kill(ray.get_actor(f"{ACTOR_PREFIX}{i}", namespace=NAMESPACE), no_restart=True)
            ended += 1
        except ValueError:
            pass
    return ended
