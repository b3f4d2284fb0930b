#!/usr/bin/env python
import sys

from anagen.cli import main

if __name__ == "__main__":
    sys.exit(main())
