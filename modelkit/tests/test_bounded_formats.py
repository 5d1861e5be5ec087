"""Zip archives are sized up from their own records before zipfile or skops parses their directory.

Memory is measured with tracemalloc (Python and numpy allocations). Margin: refusing a 16 MiB zip of
200,000 entries may allocate at most 4 MiB at peak; zipfile alone allocates about 94 MiB building
its directory for the same bytes.
"""

import io
import struct
import tracemalloc
import zipfile

import pytest

from modelkit import LoadPolicy
from modelkit.formats import ArchiveTooLarge, detect_format, zip_check
from modelkit.runtimes import RuntimeLoadError, load_runtime

PEAK_MARGIN = 4 * 1024 * 1024


def many_entries_zip(count: int, *, first: str = "schema.json", declared: int | None = None,
                     file_size: int = 0) -> bytes:
    """A zip of ``count`` stored entries, written record by record (zipfile would take a minute).

    ``declared`` puts another entry count in the end record (a lie); ``file_size`` is what each
    central entry declares unpacked. Past 65,535 entries the zip64 end records are written, as zipfile does.
    """
    local, central, offset = [], [], 0
    for i in range(count):
        name = (first if i == 0 else f"{i:x}").encode()
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, file_size, len(name), 0) + name
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, file_size, len(name),
                                   0, 0, 0, 0, 0, offset) + name)
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    entries = count if declared is None else declared
    body = b"".join(local) + directory
    if entries > 0xFFFF:
        record64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, len(directory), offset)
        locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
        return body + record64 + locator + end
    return body + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset, 0)


@pytest.fixture(scope="module")
def zip_200k() -> bytes:
    return many_entries_zip(200_000)


def peak_bytes(function, *args, **kwargs) -> tuple[int, object]:
    tracemalloc.start()
    try:
        try:
            outcome = function(*args, **kwargs)
        except Exception as exc:  # the refusal is the outcome under test
            outcome = exc
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


def test_the_crafted_archive_is_a_zip_that_zipfile_reads():
    data = many_entries_zip(70_000)  # past 65,535: zip64 end records
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == 70_000 and names[0] == "schema.json"
    assert zip_check(io.BytesIO(data), max_entries=100_000) == names


def test_a_zip_of_200k_entries_is_refused_before_its_directory_is_parsed(zip_200k):
    assert len(zip_200k) > 16 * 1024 * 1024
    peak, outcome = peak_bytes(detect_format, io.BytesIO(zip_200k))
    assert isinstance(outcome, ArchiveTooLarge) and outcome.code == "archive_too_large" and outcome.field == "file"
    assert "200000 entries" in outcome.message
    assert peak < PEAK_MARGIN, f"refusing took {peak / 2**20:.1f} MiB"


def test_an_end_record_that_lies_about_the_count_is_caught_by_the_directory_walk():
    data = many_entries_zip(60_000, declared=1)  # directory 3.3 MB: under the byte cap, over the entry cap
    peak, outcome = peak_bytes(detect_format, io.BytesIO(data))
    assert isinstance(outcome, ArchiveTooLarge) and "more than 50000 entries" in outcome.message
    assert peak < 2 * PEAK_MARGIN  # the 3.3 MB directory itself is read once


def test_a_large_directory_is_refused_on_its_declared_size(zip_200k):
    data = many_entries_zip(200_000, declared=1)  # a 10 MB directory behind a one-entry end record
    peak, outcome = peak_bytes(detect_format, io.BytesIO(data))
    assert isinstance(outcome, ArchiveTooLarge) and "directory" in outcome.message
    assert peak < PEAK_MARGIN


def test_the_caps_are_arguments():
    data = many_entries_zip(11)
    assert detect_format(io.BytesIO(data)) == "skops"
    with pytest.raises(ArchiveTooLarge):
        detect_format(io.BytesIO(data), max_zip_entries=10)
    with pytest.raises(ArchiveTooLarge, match="directory"):
        detect_format(io.BytesIO(data), max_zip_directory_bytes=100)


def test_declared_unpacked_size_is_capped():
    bomb = many_entries_zip(3, file_size=0xFFFF0000)  # three entries that say 4 GiB each
    with pytest.raises(ArchiveTooLarge, match="unpacks to more than"):
        detect_format(io.BytesIO(bomb))
    with pytest.raises(ArchiveTooLarge, match="unpacks to more than 1000 bytes"):
        zip_check(io.BytesIO(many_entries_zip(2, file_size=600)), max_unpacked_bytes=1000)


def test_zip64_sizes_in_the_extra_field_are_counted():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", b"{}")
        with archive.open("big.npy", "w", force_zip64=True) as entry:
            entry.write(b"\0" * 5000)
    names = zip_check(io.BytesIO(buffer.getvalue()))
    assert names == ["schema.json", "big.npy"]
    with pytest.raises(ArchiveTooLarge):
        zip_check(io.BytesIO(buffer.getvalue()), max_unpacked_bytes=4000)


def test_real_skops_files_and_commented_zips_pass(recommender_skops, iris_skops):
    assert detect_format(io.BytesIO(recommender_skops[0])) == "skops"
    assert detect_format(io.BytesIO(iris_skops)) == "skops"
    for comment, expected in ((b"a long comment " * 4000, "skops"),
                              (b"PK\x05\x06 looks like an end record", None)):  # zipfile cannot read that one either
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("schema.json", b"{}")
            archive.comment = comment
        assert detect_format(io.BytesIO(buffer.getvalue())) == expected


@pytest.mark.parametrize("data", [b"PK\x03\x04", b"PK\x03\x04" + b"\0" * 100,
                                  many_entries_zip(3)[:-30], b"PK\x03\x04" + b"PK\x05\x06" + b"\xff" * 18])
def test_malformed_zips_are_no_format(data):
    assert detect_format(io.BytesIO(data)) is None


def test_the_skops_runtime_refuses_the_archive_before_skops_reads_it(tmp_path, zip_200k):
    path = tmp_path / "artifact"
    path.write_bytes(zip_200k)
    peak, outcome = peak_bytes(load_runtime, "skops", path, LoadPolicy())
    assert isinstance(outcome, RuntimeLoadError) and outcome.code == "archive_too_large"
    assert peak < PEAK_MARGIN, f"refusing took {peak / 2**20:.1f} MiB"
