"""A full upload disk is the server's problem: 507 storage_full, not the client's 'upload incomplete'.

The real fault is caused by `make drills` (a tmpfs filled during an upload through nginx: 507, no row, no file).
"""

import errno

from registry.uploads import _client_error


def test_no_space_left_is_a_507_that_says_nothing_was_kept():
    error = _client_error(OSError(errno.ENOSPC, "No space left on device"))
    assert (error.status, error.code, error.field) == (507, "storage_full", "file")
    assert "nothing was kept" in error.message


def test_a_quota_of_the_filesystem_is_the_same():
    assert _client_error(OSError(errno.EDQUOT, "Disk quota exceeded")).status == 507


def test_a_client_that_went_away_is_still_its_own_400():
    error = _client_error(OSError("client disconnected"))  # gunicorn's NoMoreData/IOError carries no errno
    assert (error.status, error.code) == (400, "upload_incomplete")
