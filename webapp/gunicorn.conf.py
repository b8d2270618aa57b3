"""Gunicorn settings: gunicorn -c webapp/gunicorn.conf.py webapp.wsgi (command-line flags override these).

Chosen with bench/rater_load.py (32 raters, 2 CPUs, PostgreSQL; see bench/README.md). The API is
CPU-bound in Python, so threads add nothing; sync workers and gthread used the same CPU per
request, but gthread keeps each keep-alive connection on the worker that accepted it, and with
a few busy clients one worker got most of them (half the machine idle, p95 twice as long).
Sync workers take one request at a time from the shared socket, so load spreads evenly.
"""
import multiprocessing
import os

bind = os.environ.get("WB_BIND", "127.0.0.1:8000")
# 4 to 6 measured the same on 2 CPUs; 2 × CPUs + 1 leaves a worker free while others wait on PostgreSQL.
workers = int(os.environ.get("WB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
# The workers' heartbeat file: on tmpfs, not disk (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def when_ready(server):
    # Listening and workers up: `./run demo` waits for this file before starting the Celery worker,
    # so a port lost to another program never leaves a worker behind (a connect probe could hit that program).
    ready_file = os.environ.get("WB_READY_FILE")
    if ready_file:
        with open(ready_file, "w"):
            pass
