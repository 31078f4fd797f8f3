"""Facts about a run that only the Metaflow datastore knows (see `task_spec.RunState`)."""

from . import ids
from .task_spec import RunState


class DatastoreRunState(RunState):
    """Run facts read from the Metaflow datastore the deployment writes to."""

    def __init__(self, deployment):
        from metaflow.datastore import FlowDataStore
        from metaflow.plugins import DATASTORES

        impl = next(d for d in DATASTORES if d.TYPE == deployment.datastore)
        root = deployment.datastore_root or impl.get_datastore_root_from_config(print)
        self.store = FlowDataStore(deployment.flow_name, storage_impl=impl, ds_root=root)

    def finished(self, pathspecs):
        if not pathspecs:
            return set()
        # Metaflow marks a failed task done too (with `_task_ok` False): only a success counts,
        # or resume would clone a failed task and a restarted loop would skip a failed iteration.
        done = self.store.get_task_datastores(pathspecs=list(pathspecs))
        return {ds.pathspec for ds in done if "_task_ok" in ds and ds["_task_ok"]}

    def num_splits(self, pathspec):
        return self.task(pathspec)["_foreach_num_splits"]

    def last_iteration(self, run_id, step, index_path):
        prefix = ids.task_id_for(step, index_path) + "-r"
        done = self.store.get_task_datastores(run_id=run_id, steps=[step])
        iterations = [
            ids.parse_task_id(ds.task_id)[2] for ds in done if ds.task_id.startswith(prefix)
        ]
        return max(iterations) if iterations else None

    def next_attempt(self, pathspec):
        """0 for a task never started, else one more than its latest attempt.

        A Kestra Restart (or retry) of a task therefore runs a new attempt of the
        same Metaflow task, and the client shows every attempt.
        """
        started = self.store.get_task_datastores(pathspecs=[pathspec], allow_not_done=True)
        return max((ds.attempt + 1 for ds in started), default=0)

    def log_store(self, run_id, step, task_id, attempt):
        """Where the logs of one attempt of a task are saved (a task datastore for writing)."""
        return self.store.get_task_datastore(run_id, step, task_id, attempt=attempt, mode="w")

    def task(self, pathspec):
        run_id, step, task_id = pathspec.split("/")
        return self.store.get_task_datastore(run_id, step, task_id)
