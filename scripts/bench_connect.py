#!/usr/bin/env python3
"""File -> Kafka -> file: Tributary against Kafka Connect itself, on the same broker, same run.

Usage: scripts/kafka.sh start --port 19092 && scripts/kafka.sh fetch-connect \
       && cargo build --release && python3 scripts/bench_connect.py [--records N]

Both runtimes get the same worker keys (JsonConverter with schemas, offsets in a file) and the
same FileStreamSource + FileStreamSink connector files. For each: time from process start to
"ready" (Kafka Connect's "Kafka Connect started", Tributary's "standalone worker ready"), time
from ready until the sink file holds every input byte (records/s), peak RSS, and RSS when idle
after the run. Prints a Markdown table.
"""
import argparse
import os
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

CACHE = Path(os.environ.get("TRIBUTARY_CACHE", Path.home() / ".cache" / "tributary"))
CONNECT_LIBS = CACHE / "connect-4.1.1" / "libs"
ROOT = Path(__file__).resolve().parent.parent


def rss_kb(pid, field="VmRSS"):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def write_props(path, pairs):
    path.write_text("".join(f"{k}={v}\n" for k, v in pairs.items()))
    return path


def run(name, cmd, ready_marker, workdir, inp, out, expected_bytes, log):
    start = time.monotonic()
    with open(log, "w") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=workdir)
    ready = None
    while ready is None:
        if ready_marker in Path(log).read_text(errors="replace"):
            ready = time.monotonic()
        elif proc.poll() is not None:
            raise SystemExit(f"{name} exited early; see {log}")
        else:
            time.sleep(0.005)
    # Idle footprint: ready, connectors running, no data yet.
    time.sleep(1)
    idle_ready = rss_kb(proc.pid)
    # Start the data only once the worker is ready, so records/s measures the pipeline.
    os.link(inp, workdir / "in.txt")
    t0 = time.monotonic()
    deadline = t0 + 900
    while not (out.exists() and out.stat().st_size >= expected_bytes):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"{name} did not finish; see {log}")
        time.sleep(0.01)
    done = time.monotonic()
    peak = rss_kb(proc.pid, "VmHWM")
    time.sleep(3)
    idle = rss_kb(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    ok = out.read_bytes() == inp.read_bytes()
    return {"startup_s": ready - start, "pipeline_s": done - t0, "peak_mb": peak / 1024, "idle_mb": idle / 1024,
            "ready_mb": idle_ready / 1024, "identical": ok}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    ap.add_argument("--tributary", default=str(ROOT / "target" / "release" / "tributary"))
    args = ap.parse_args()
    n = args.records
    tmp = Path(tempfile.mkdtemp(prefix="bench-connect-"))
    inp = tmp / "input.txt"
    with open(inp, "w") as f:
        for i in range(n):
            f.write(f"{i:09d} " + "x" * 90 + "\n")
    size = inp.stat().st_size
    results = {}
    for name in ["kafka-connect", "tributary"]:
        wd = tmp / name
        wd.mkdir()
        topic = f"bench-{name}-{uuid.uuid4().hex[:8]}"
        out = wd / "out.txt"
        worker = write_props(wd / "worker.properties", {
            "bootstrap.servers": args.bootstrap,
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "offset.storage.file.filename": wd / "offsets",
            "offset.flush.interval.ms": 10000,
            "listeners": "http://127.0.0.1:" + ("18093" if name == "kafka-connect" else "18094"),
        })
        src = write_props(wd / "source.properties", {
            "name": f"{name}-source", "connector.class": "FileStreamSource", "file": wd / "in.txt", "topic": topic})
        sink = write_props(wd / "sink.properties", {
            "name": f"{name}-sink", "connector.class": "FileStreamSink", "file": out, "topics": topic})
        if name == "kafka-connect":
            l4j = wd / "log4j2.properties"
            l4j.write_text("rootLogger.level = INFO\nrootLogger.appenderRef.c.ref = C\nappender.c.type = Console\n"
                           "appender.c.name = C\nappender.c.layout.type = PatternLayout\nappender.c.layout.pattern = %p %m%n\n")
            cmd = ["java", "-Xms256M", "-Xmx2G", f"-Dlog4j2.configurationFile={l4j}", "-cp", f"{CONNECT_LIBS}/*",
                   "org.apache.kafka.connect.cli.ConnectStandalone", str(worker), str(src), str(sink)]
            marker = "Kafka Connect started"
        else:
            cmd = [args.tributary, "standalone", str(worker), str(src), str(sink)]
            marker = "standalone worker ready"
        results[name] = run(name, cmd, marker, wd, inp, out, size, wd / "log.txt")
    print(f"File -> Kafka -> file, {n} lines of 100 bytes, JsonConverter with schemas, broker {args.bootstrap}\n")
    print("| runtime | start-up to ready (s) | idle RSS at ready (MB) | records/s | peak RSS (MB) | RSS after run (MB) | output identical |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['startup_s']:.3f} | {r['ready_mb']:.1f} | {n / r['pipeline_s']:.0f} | {r['peak_mb']:.0f} | "
              f"{r['idle_mb']:.0f} | {r['identical']} |")
    kc, tr = results["kafka-connect"], results["tributary"]
    print(f"\nratios tributary / kafka-connect: records/s {kc['pipeline_s'] / tr['pipeline_s']:.2f}, "
          f"start-up {tr['startup_s'] / kc['startup_s']:.3f}, peak RSS {tr['peak_mb'] / kc['peak_mb']:.3f}")


if __name__ == "__main__":
    main()
