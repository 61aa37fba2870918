#!/usr/bin/env python
"""Same as the ``sipadu`` command, for people used to manage.py."""

from sipadu.cli import main

if __name__ == "__main__":
    main()
