"""``python -m crawler.cli``: the ``nianbao`` command (what tests and child processes run)."""

from crawler.cli import main

main()
