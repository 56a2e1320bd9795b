#!/usr/bin/env python
"""The example host's manage.py (run from the repository root or from here)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.host.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
