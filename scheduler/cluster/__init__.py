"""The cluster: crawl workers on many machines against one PostgreSQL, scheduled by one daemon.

Built on procrastinate (a PostgreSQL task queue): the daemon defers one job per site with its due
sources and ``lock = <site>`` (one run per site at a time across every worker, which keeps a
site's delay and robots.txt rules true), never a second job for a source still queued or
running; workers run each job, with its time limit, in their long-lived crawl process.
"""
