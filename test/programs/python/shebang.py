#!/usr/bin/env python3
# Run as an executable: collect sees the python shebang.
import sys
import time

time.sleep(0.1)  # @mark
print('shebang', sys.version_info[0])
