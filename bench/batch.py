"""`make bench-batch`: a Modelyard batch job against the plain script it replaces (issue 9, docs/batch.md).

The reference is one process over the same file: pyarrow read -> onnxruntime -> pyarrow write, chunks of
the same size, the same output format, pyarrow and onnxruntime on one thread: the physical limit of the
pipeline on one core. Modelyard runs the same file as a job on one, then two Celery worker processes
(solo pool, one chunk at a time each) with PostgreSQL and Redis, and the worker's peak RSS is compared
for 1,000,000 and 4,000,000 rows. Each figure is the best of --repeat runs (a shared machine's noise only
ever slows a run down). The job's time runs from submit (its input already uploaded: registering an
input, which plans its chunks, is timed apart) to the moment the job row says succeeded.

    .venv/bin/python bench/batch.py [--rows 1000000] [--big-rows 4000000] [--repeat 3] [--keep]

Each run drops and re-creates the database `modelyard_bench_batch` and flushes Redis db 11.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 65_536
FEATURES = 30


def options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=4_000_000, help="rows of the input for the RSS check")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/modelyard_bench_batch")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument("--reference", nargs=2, metavar=("INPUT", "MODEL"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the reference script (run in a process of its own) -------------------------------------------

def reference(source: Path, model: Path) -> None:
    """Prints the seconds of read -> predict -> write for the whole file, in chunks of CHUNK rows. Read
    and written as well as pyarrow allows on one thread (typed CSV columns in 1 MiB blocks, dictionary
    encoding only for labels): the same choices the job makes."""
    import numpy as np
    import onnxruntime as ort
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    name, writer, rows = session.get_inputs()[0].name, None, 0
    started = time.perf_counter()
    if source.suffix == ".parquet":
        batches = pq.ParquetFile(source).iter_batches(batch_size=CHUNK, use_threads=False)
    else:
        types = pcsv.ConvertOptions(column_types={f"f{i}": pa.float64() for i in range(FEATURES)})
        batches = pcsv.open_csv(source, read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 20),
                                convert_options=types)
    target = source.with_suffix(".reference.parquet")
    for chunk in rechunk(batches):
        features = np.empty((chunk.num_rows, chunk.num_columns), np.float32)
        for j, column in enumerate(chunk.columns):
            features[:, j] = column.to_numpy()
        labels, probabilities = session.run(None, {name: features})
        table = pa.table({"labels": labels, "probabilities_0": probabilities[:, 0],
                          "probabilities_1": probabilities[:, 1]})
        writer = writer or pq.ParquetWriter(target, table.schema, use_dictionary=["labels"])
        writer.write_table(table)
        rows += chunk.num_rows
    writer.close()
    print(f"{rows} {time.perf_counter() - started:.4f}")


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


def run_reference(source: Path, model: Path) -> float:
    out = subprocess.run([sys.executable, __file__, "--reference", str(source), str(model)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) / float(out[1])


# --- inputs, database, workers ----------------------------------------------------------------------

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


def prepare_database(env: dict[str, str]) -> None:
    import environ
    import redis

    db = environ.Env.db_url_config(env["DATABASE_URL"])
    admin = ["psql", "-h", db["HOST"], "-p", str(db["PORT"] or 5432), "-U", db["USER"], "-d", "postgres", "-qc"]
    subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{db["NAME"]}"'], check=True, env={**os.environ, **env})
    subprocess.run([*admin, f'CREATE DATABASE "{db["NAME"]}"'], check=True, env={**os.environ, **env})
    if env["REDIS_URL"].rstrip("/").endswith("/0"):
        raise SystemExit("Refusing to flush Redis db 0: give --redis-url another db")
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env={**os.environ, **env},
                   check=True)


def start_workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    workers = []
    for i in range(count):
        with (logs / f"worker-{len(list(logs.glob('worker-*')))}.log").open("wb") as log:
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "warning",
                 "-n", f"bench{i}@%h", "-Q", env["MODELYARD_CELERY_QUEUE"], "--without-gossip", "--without-mingle",
                 "--without-heartbeat"], cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT))
    time.sleep(4)  # connected and ready
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# --- jobs ---------------------------------------------------------------------------------------------

def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def publish(model_path: Path) -> object:
    from django.contrib.auth import get_user_model

    from registry import services

    user = get_user_model().objects.create_user(username="bench", password=None)
    team = services.team_create(actor=user, slug="bench", name="Benchmark")
    model = services.model_create(actor=user, team=team, name="bench-batch", description="make bench-batch",
                                  protected_aliases=[])
    services.version_publish_local(actor=user, model=model, filename="model.onnx", data=model_path.read_bytes())
    return model


def run_job(model: object, *, path: Path | None = None, earlier: object = None) -> tuple[object, float]:
    """Submit (a new input, or an earlier job's) and wait until the job row says it has finished."""
    from batch import services
    from batch.models import BatchJob

    source = services.InputFile.from_path(path) if path else None
    started = time.perf_counter()
    job = services.job_create(actor=model.created_by, model=model, alias="production", source=source,
                              input_from=earlier)
    while (status := BatchJob.objects.filter(pk=job.pk).values_list("status", flat=True).get()) in ("queued",
                                                                                                    "running"):
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if status != "succeeded":
        raise SystemExit(f"job {job.uuid} {status}: {BatchJob.objects.get(pk=job.pk).status_message}")
    return job, elapsed


def best_rate(model: object, earlier: object, repeat: int) -> tuple[float, list[float], str]:
    runs = [run_job(model, earlier=earlier) for _ in range(repeat)]
    rates = [earlier.rows_total / seconds for _, seconds in runs]
    return max(rates), rates, timeline(max(runs, key=lambda run: -run[1])[0])


def timeline(job: object) -> str:
    """Where the best run's time went, from the job's and its chunks' rows."""
    from django.db.models import Max

    job.refresh_from_db()
    last = job.chunks.aggregate(last=Max("finished_at"))["last"]
    ms = lambda a, b: f"{(b - a).total_seconds() * 1000:.0f} ms"  # noqa: E731
    return (f"submit to first claim {ms(job.created_at, job.started_at)}, chunks {ms(job.started_at, last)}, "
            f"assembly {ms(last, job.finished_at)}")


# --- the run -------------------------------------------------------------------------------------------

def measure(args: argparse.Namespace, data: Path, env: dict[str, str]) -> dict[str, object]:
    model_path = build_model(data)
    inputs = {fmt: build_input(data, args.rows, fmt) for fmt in ("parquet", "csv")}
    big = build_input(data, args.big_rows, "parquet")
    setup_django(env)
    model, logs, results = publish(model_path), data / "logs", {}
    logs.mkdir()
    for fmt, path in inputs.items():
        ref = max(run_reference(path, model_path) for _ in range(args.repeat))
        workers = start_workers(1, env, logs)
        first, registered = run_job(model, path=path)  # registers the input (copy + plan) and warms the worker
        one, ones, one_time = best_rate(model, first, args.repeat)
        stop_workers(workers)
        workers = start_workers(2, env, logs)
        run_job(model, earlier=first)  # both workers load the model
        two, twos, two_time = best_rate(model, first, args.repeat)
        stop_workers(workers)
        results[fmt] = {"reference": ref, "one": one, "two": two, "ones": ones, "twos": twos, "one_time": one_time,
                        "two_time": two_time, "registered": registered, "chunks": first.chunks.count()}
    results["rss"] = {}
    for path in (inputs["parquet"], big):
        (worker,) = start_workers(1, env, logs)  # a fresh process for each, so its peak is this job's
        job, _ = run_job(model, path=path)
        results["rss"][job.rows_total] = peak_rss(worker.pid)
        stop_workers([worker])
    return results


def report(args: argparse.Namespace, results: dict) -> bool:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(f"\nBatch jobs: {args.rows:,} rows x {FEATURES} features, chunks of {CHUNK:,} rows, "
          f"LogisticRegression (ONNX), Parquet output, {os.cpu_count()} cores, best of {args.repeat}")
    print(f"{'input':8} {'reference rows/s':>17} {'1 worker rows/s':>16} {'ratio':>6} "
          f"{'2 workers rows/s':>17} {'ratio':>6}  chunks  input registration")
    ok = True
    for fmt in ("parquet", "csv"):
        r = results[fmt]
        one, two = r["one"] / r["reference"], r["two"] / r["reference"]
        print(f"{fmt:8} {r['reference']:>17,.0f} {r['one']:>16,.0f} {one:>6.2f} {r['two']:>17,.0f} {two:>6.2f}"
              f"  {r['chunks']:>6}  {r['registered']:.2f} s (copy, plan, first job)")
        print(f"         runs: 1 worker {', '.join(f'{x:,.0f}' for x in r['ones'])}; "
              f"2 workers {', '.join(f'{x:,.0f}' for x in r['twos'])}")
        print(f"         best 1-worker job: {r['one_time']}; 2 workers: {r['two_time']}")
        print(f"  {verdict(one >= 0.70)} {fmt}: one worker >= 0.70 x reference ({one:.2f})")
        print(f"  {verdict(two >= 1.30)} {fmt}: two workers >= 1.3 x reference ({two:.2f})")
        ok = ok and one >= 0.70 and two >= 1.30
    (small, low), (large, high) = sorted(results["rss"].items())
    growth = high / low - 1
    print(f"worker peak RSS: {low / 2**20:,.0f} MiB for {small:,} rows, {high / 2**20:,.0f} MiB for {large:,} rows "
          f"({growth:+.1%})")
    print(f"  {verdict(abs(growth) <= 0.10)} peak RSS for {large:,} rows within 10% of {small:,} rows")
    return ok and abs(growth) <= 0.10


def main(argv: list[str]) -> int:
    args = options(argv)
    if args.reference:
        reference(Path(args.reference[0]), Path(args.reference[1]))
        return 0
    data = Path(tempfile.mkdtemp(prefix="modelyard-bench-batch-"))
    env = {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "MODELYARD_DATA_DIR": str(data),
           "MODELYARD_CELERY_QUEUE": "bench-batch", "MODELYARD_ENV": "development", "DEBUG": "false",
           "MODELYARD_BATCH_CHUNK_ROWS": str(CHUNK), "LOG_LEVEL": "WARNING"}
    try:
        prepare_database(env)
        report(args, measure(args, data, env))
    finally:
        if args.keep:
            print(f"kept {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
