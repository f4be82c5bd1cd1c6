"""The cluster executor: runs train in a warm pool of detached Ray actors.

The web replica admits a run into the Postgres store (queued); an idle trainer
actor anywhere in the cluster claims it from there and writes its events
straight into the store (app/runs/ray_worker.py). So a run never depends on the
replica that launched it: the actors are detached (they outlive every replica),
any replica streams any run from the store, and any replica cancels any run
through the store's cancel flag. A dead actor or node stops the run's heartbeats
and any replica's keeper fails it with the reason.

The pool: RUN_CONCURRENCY named actors `kd-trainer-<i>` in the RAY_NAMESPACE
namespace (`kd-notes`; one per deployment sharing a cluster), created by whichever
replica starts first (get_if_exists), each asking for RAY_NUM_CPUS CPUs and
RAY_NUM_GPUS of a GPU (a fraction: several tiny demos share one GPU, and only GPU
nodes take them). Ray restarts an actor that
dies, and the new one goes back to the queue. Only this module and
ray_worker.py import ray; the web process imports this one, never torch.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import ray

from app.runs.contract import Status, failed_event
from app.runs.executor import ActiveRun, Executor, RunSink
from app.runs.ray_worker import TrainerLoop

log = logging.getLogger(__name__)

ACTOR_PREFIX = "kd-trainer-"
#: How often a replica asks Ray whether the trainer actors are alive.
WATCH_SECONDS = 1.0


class RayExecutor(Executor):
    runs_die_with_process = False
    pulls_from_store = True

    def __init__(self, settings: Any, target: str, slots: int):
        self.settings, self.target, self.slots = settings, target, slots
        self.actors: list[Any] = []
        self.store: Any = None  # the service's, given by `watch`
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self, sink: RunSink) -> None:
        if not ray.is_initialized():
            connect_keeping_sigterm(self.settings)
        gpus = self.settings.ray_num_gpus
        job = {
            "data_dir": str(self.settings.data_dir),
            "device": "cuda" if gpus > 0 else self.settings.device,
            "threads": self.settings.torch_threads,
        }
        actor = ray.remote(TrainerLoop)
        self.actors = [
            actor.options(
                name=f"{ACTOR_PREFIX}{i}", lifetime="detached",
                namespace=self.settings.ray_namespace,
                get_if_exists=True, num_cpus=self.settings.ray_num_cpus, num_gpus=gpus,
                max_restarts=-1, max_task_retries=0,
            ).remote(*trainer_store(self.settings), self.target, job)
            for i in range(self.slots)
        ]  # fmt: skip

    def watch(self, store: Any) -> None:
        """Ask Ray, every WATCH_SECONDS, whether each trainer actor lives: a run
        whose actor died is failed at once, with Ray's reason (heartbeats would
        catch it too, a few seconds later, with a vaguer one)."""
        self.store = store
        self._watcher = threading.Thread(target=self._watch, name="ray-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        runners: dict[int, str] = {}  # actor index -> its last known host:pid
        while not self._stop.wait(WATCH_SECONDS):
            for i, actor in enumerate(self.actors):
                try:
                    runners[i] = ray.get(actor.ready.remote(), timeout=5)
                except ray.exceptions.GetTimeoutError:
                    continue  # busy importing, or the cluster is slow: next round
                except ray.exceptions.RayActorError as exc:
                    runner = runners.pop(i, None)
                    if runner is not None:
                        self._fail_runs_of(runner, exc)
                except Exception:  # the connection to the cluster: next round
                    log.debug("ray watch failed", exc_info=True)

    def _fail_runs_of(self, runner: str, exc: Exception) -> None:
        said = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        reason = f"the Ray worker running it ({runner}) died; Ray says: {said}"
        for run_id in self.store.running_on(runner):
            if self.store.finish(run_id, Status.FAILED, failed_event(reason), error=reason):
                log.warning("run %s: %s", run_id, reason)

    def wait_warm(self, timeout: float = 60.0) -> bool:
        """Every actor has imported the trainer (tests, benchmarks)."""
        try:
            ray.get([a.ready.remote() for a in self.actors], timeout=timeout)
            return True
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
            return False

    def launch(self, run: ActiveRun, job: dict[str, Any]) -> None:
        raise AssertionError("cluster runs are claimed from the store, not launched")

    def kill(self, run: ActiveRun) -> None:
        raise AssertionError("cluster runs are cancelled through the store")

    def stop(self) -> None:
        """Disconnect; the detached actors, and the runs they train, carry on."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(WATCH_SECONDS + 6)
        if ray.is_initialized():
            ray.shutdown()


def trainer_store(settings: Any) -> tuple[str, str | None]:
    """The store URL the trainer actors get, and the password file to complete it:
    with RUN_STORE_PASSWORD_FILE, the URL goes without its password (an actor's
    arguments are kept in Ray's control store) and each worker reads its own copy of
    the secret."""
    from app.settings import url_with_password

    if settings.run_store_password_file is None:
        return settings.store_url, None
    return url_with_password(settings.store_url, None), str(settings.run_store_password_file)


def connect_keeping_sigterm(settings: Any) -> None:
    """`ray.init`, then give SIGTERM back to whoever had it. Ray's driver sets its own
    handler, `sys.exit(15)`, which fires inside uvicorn's loop: the lifespan then ends
    in `SystemExit: 15` and a traceback, and the replica exits 15 instead of shutting
    down (open streams closed, the store released, exit 0). The trainer actors are
    detached, so a replica's clean exit leaves their runs training."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    ray.init(address=settings.ray_address or "auto", namespace=settings.ray_namespace,
             logging_level=logging.WARNING, log_to_driver=False)  # fmt: skip
    if main and previous is not None:
        signal.signal(signal.SIGTERM, previous)

