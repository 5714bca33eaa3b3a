"""Run the app under gunicorn (the production WSGI server), in-process from `popdb serve`."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from popdb.core.settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from api import create_app

        return create_app(self.settings)


def run_server(settings: Settings, *, host: str, port: int, workers: int, metrics_dir: str) -> None:
    """Blocks until SIGINT/SIGTERM; gunicorn drains workers gracefully.

    `metrics_dir` is PROMETHEUS_MULTIPROC_DIR, set by the caller before any import of
    prometheus_client, where the workers share their counters.
    """

    def child_exit(_server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)

    _Gunicorn(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": settings.web_threads,
            "timeout": 120,
            "graceful_timeout": 20,
            "accesslog": None,
            "child_exit": child_exit,
            "control_socket_disable": True,  # one fixed path per user: two servers would clash
        },
    ).run()
