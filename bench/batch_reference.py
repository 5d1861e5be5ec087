"""The plain script a batch job replaces, and the inputs and model of `bench/batch.py`.

    python bench/batch_reference.py <input.parquet|input.csv> <model.onnx>

prints the rows and the seconds of read -> predict -> write over the whole file, in chunks of CHUNK rows,
everything on one thread: the physical limit of this pipeline on one core. The file is processed twice
in the one process and the second pass counts: a fresh process pays for its memory allocator's first
touches of every page (measured: 0.22 to 0.66 s for the same 1M-row Parquet file), a long-lived worker
does not. One timed pass a run, as a job is one timed run after a first job that warms the worker: the
bench's best of N runs is then N samples on either side (the best of three passes a run made it the
best of 3N for the script against N for the job, on a machine whose runs vary by a tenth).
"""

import sys
import time
from pathlib import Path

CHUNK = 65_536
FEATURES = 30


def reference(source: Path, model: Path) -> None:
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    one_pass(source, model)  # warms what a long-lived worker has warm
    rows, seconds = one_pass(source, model)
    print(f"{rows} {seconds:.4f}")


def one_pass(source: Path, model: Path) -> tuple[int, float]:
    """Rows and seconds of read -> predict -> write for the whole file, in chunks of CHUNK rows. Read
    and written as well as pyarrow allows on one thread (typed CSV columns in 1 MiB blocks, Parquet in
    1 MiB reads, the feature matrix filled column by column and transposed once, dictionary encoding only
    for labels): the same choices the job makes."""
    import numpy as np
    import onnxruntime as ort
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    name, writer, rows = session.get_inputs()[0].name, None, 0
    target = source.with_suffix(".reference.parquet")
    target.unlink(missing_ok=True)  # a fresh file, as a job writes: truncating the last pass's is not timed
    started = time.perf_counter()
    if source.suffix == ".parquet":
        batches = pq.ParquetFile(source, pre_buffer=False, buffer_size=1 << 20).iter_batches(batch_size=CHUNK,
                                                                                             use_threads=False)
    else:
        types = pcsv.ConvertOptions(column_types={f"f{i}": pa.float64() for i in range(FEATURES)})
        batches = pcsv.open_csv(source, read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 20),
                                convert_options=types)
    for chunk in rechunk(batches):
        by_column = np.empty((chunk.num_columns, chunk.num_rows), np.float32)  # as the job builds it
        for j, column in enumerate(chunk.columns):
            by_column[j] = column.to_numpy()
        features = np.ascontiguousarray(by_column.T)
        labels, probabilities = session.run(None, {name: features})
        table = pa.table({"labels": labels, "probabilities_0": probabilities[:, 0],
                          "probabilities_1": probabilities[:, 1]})
        writer = writer or pq.ParquetWriter(target, table.schema, use_dictionary=["labels"])
        writer.write_table(table)
        rows += chunk.num_rows
    writer.close()
    return rows, time.perf_counter() - started


def rechunk(batches: object) -> object:
    """Tables of exactly CHUNK rows (the last one shorter), whatever sizes the reader yields."""
    import pyarrow as pa

    pending, count = [], 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= CHUNK:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, CHUNK)
            rest = table.slice(CHUNK)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def build_model(folder: Path) -> Path:
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    features, labels = make_classification(n_samples=2000, n_features=FEATURES, random_state=0)
    classifier = LogisticRegression(max_iter=1000).fit(features, labels)
    onx = to_onnx(classifier, features[:1].astype(np.float32), options={id(classifier): {"zipmap": False}})
    path = folder / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    return path


def build_input(folder: Path, rows: int, fmt: str) -> Path:
    """Normal features in blocks (memory stays small); Parquet row groups of CHUNK rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    path, rng, writer = folder / f"input-{rows}.{fmt}", np.random.default_rng(0), None
    schema = pa.schema([(f"f{i}", pa.float64()) for i in range(FEATURES)])
    for start in range(0, rows, CHUNK):
        block = rng.normal(size=(min(CHUNK, rows - start), FEATURES))
        table = pa.table({f"f{i}": block[:, i] for i in range(FEATURES)}, schema=schema)
        if writer is None:
            writer = pq.ParquetWriter(path, schema) if fmt == "parquet" else pcsv.CSVWriter(path, schema)
        writer.write_table(table)
    writer.close()
    return path




if __name__ == "__main__":
    reference(Path(sys.argv[1]), Path(sys.argv[2]))
