"""What a loaded model costs in memory: the process's resident size before and after the load.

Loads are serialised while measured, so the difference belongs to one model; the runtime's library
is imported before the first reading, so a one-time import (scikit-learn is ~100 MiB) is never
charged to the first model that needs it. Allocations freed and reused during the load can make the
figure smaller than the truth, never larger than the process grew; the file size is the floor.
"""

import os
import resource
import threading

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
measuring = threading.Lock()


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:  # not Linux: the peak is the best the standard library offers
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
