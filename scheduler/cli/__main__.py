"""``python -m scheduler.cli``: how the daemon starts each crawl run as a child process."""

from scheduler.cli import main

main()
