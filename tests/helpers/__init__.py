"""Plain code the tests share (capture builders, fixture paths, child processes); fixtures stay in conftest.py."""
