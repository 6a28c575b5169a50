"""The cluster: crawl workers on many machines against one PostgreSQL, scheduled by one daemon.

Built on procrastinate (a PostgreSQL task queue): the daemon defers one job per due source with
``lock = <site>`` (one run per site at a time across every worker, which keeps a site's delay and
robots.txt rules true) and ``queueing_lock = <source>`` (one queued job per source); workers run
each job as the daemon runs a child, a ``newswatch crawl`` process with its time limit.
"""
