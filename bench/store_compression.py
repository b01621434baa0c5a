"""Blob compression benchmark (issue 16, the compact store).

Every corpus notebook is compressed and decompressed in memory with each candidate codec and
level, beside a raw read (open + read, warm page cache) of the same files: the reference a
compressed blob store has to stay close to when a version is read for rendering. For each
codec it prints the ratio (compressed / original bytes, lower is better), compression and
decompression speed in MB/s of original bytes over the whole corpus (decompression: best
of three passes), and the milliseconds to
compress and decompress a typical notebook (the median size) and the largest one (best of a
few rounds, so the other jobs on a shared machine count less).

The shared corpus is only read, never copied or modified.

Usage:
    python bench/store_compression.py [--rounds 5] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import lzma
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import zstandard

try:  # run as `python bench/store_compression.py` (bench/ on sys.path) or as bench.store_...
    from generate import corpus_dir
    from sync import machine_lines
    from tables import header, row
except ModuleNotFoundError:
    from bench.generate import corpus_dir
    from bench.sync import machine_lines
    from bench.tables import header, row

MB = 1e6  # decimal megabytes, as in the other benchmarks
Codec = tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]


def codecs() -> dict[str, Codec]:
    """The candidates: (compress, decompress) by name."""
    found: dict[str, Codec] = {}
    unzstd = zstandard.ZstdDecompressor()
    for level in (1, 3, 9, 19):
        packer = zstandard.ZstdCompressor(level=level)
        found[f"zstd-{level}"] = (packer.compress, unzstd.decompress)
    for level in (6, 9):
        found[f"zlib-{level}"] = (lambda d, lv=level: zlib.compress(d, lv), zlib.decompress)
    for preset in (1, 6):
        found[f"lzma-{preset}"] = (lambda d, p=preset: lzma.compress(d, preset=p),
                                   lzma.decompress)
    return found


@dataclass
class Result:
    """One codec's figures."""

    name: str
    ratio: float
    pack_mbs: float
    unpack_mbs: float
    pack_ms: tuple[float, float]  # typical, largest
    unpack_ms: tuple[float, float]


def best_ms(fn: Callable[[], object], rounds: int) -> float:
    """The fastest of ``rounds`` calls, in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def read_all(files: list[Path]) -> tuple[list[bytes], float]:
    """The bytes of every file and the seconds a raw read of them took."""
    start = time.perf_counter()
    data = [p.read_bytes() for p in files]
    return data, time.perf_counter() - start


def measure(name: str, codec: Codec, data: list[bytes], picks: tuple[int, int],
            rounds: int) -> Result:
    """Compress and decompress the whole corpus once, and the two picked files ``rounds``
    times each; check every round trip is byte-identical."""
    pack, unpack = codec
    total = sum(map(len, data))
    start = time.perf_counter()
    packed = [pack(d) for d in data]
    pack_s = time.perf_counter() - start
    unpack_s = float("inf")
    for _ in range(3):  # best of three: the first pass also warms the codec's code and tables
        start = time.perf_counter()
        unpacked = [unpack(p) for p in packed]
        unpack_s = min(unpack_s, time.perf_counter() - start)
        if unpacked != data:
            raise SystemExit(f"{name}: a round trip changed the bytes")
    pack_ms = tuple(best_ms(lambda i=i: pack(data[i]), rounds) for i in picks)
    unpack_ms = tuple(best_ms(lambda i=i: unpack(packed[i]), rounds) for i in picks)
    return Result(name, sum(map(len, packed)) / total, total / MB / pack_s,
                  total / MB / unpack_s, (pack_ms[0], pack_ms[1]), (unpack_ms[0], unpack_ms[1]))


COLUMNS = [("codec", 8), ("ratio", 6), ("saved", 6), ("pack MB/s", 9), ("unpack MB/s", 11),
           ("pack ms typ", 11), ("pack ms max", 11), ("read ms typ", 11), ("read ms max", 11)]


def main() -> int:
    """Run the benchmark and print the machine and the table on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds for the per-file times")
    parser.add_argument("--corpus", type=Path, default=None, help="default: the shared corpus")
    args = parser.parse_args()
    corpus = args.corpus or corpus_dir()
    if corpus is None:
        print("no corpus: set NBSHELF_CORPUS", file=sys.stderr)
        return 1
    files = sorted(corpus.rglob("*.ipynb"))
    began = time.perf_counter()
    for line in machine_lines([corpus]):
        print(line)
    print("command  python bench/store_compression.py"
          + (f" --rounds {args.rounds}" if args.rounds != 5 else ""))
    read_all(files)  # warm the page cache: the reference is a warm read, as a render's is
    data, read_s = read_all(files)
    read_s = min(read_s, read_all(files)[1], read_all(files)[1])
    sizes = [len(d) for d in data]
    order = sorted(range(len(data)), key=sizes.__getitem__)
    typical, largest = order[len(order) // 2], order[-1]
    total = sum(sizes)
    print(f"\ncorpus   {len(data):,} notebooks, {total / MB:.1f} MB; typical (median) "
          f"{sizes[typical] / 1e3:.0f} KB, largest {sizes[largest] / MB:.1f} MB, "
          f"mean {statistics.mean(sizes) / 1e3:.0f} KB\n")
    raw_ms = [best_ms(lambda i=i: files[i].read_bytes(), args.rounds) for i in (typical, largest)]
    for line in header(COLUMNS):
        print(line)
    print(row(COLUMNS, ["raw", "1.000", "0%", "-", f"{total / MB / read_s:,.0f}", "-", "-",
                        f"{raw_ms[0]:.2f}", f"{raw_ms[1]:.2f}"]))
    for name, codec in codecs().items():
        r = measure(name, codec, data, (typical, largest), args.rounds)
        print(row(COLUMNS, [
            name, f"{r.ratio:.3f}", f"{1 - r.ratio:.0%}", f"{r.pack_mbs:,.1f}",
            f"{r.unpack_mbs:,.0f}", f"{r.pack_ms[0]:.2f}", f"{r.pack_ms[1]:.1f}",
            f"{r.unpack_ms[0]:.2f}", f"{r.unpack_ms[1]:.2f}"]), flush=True)
    print("\nratio: compressed / original bytes over the corpus; MB/s of original bytes; "
          "'read ms' is decompressing one in memory\n(the raw row: reading the file, warm "
          "cache); typ = the median-size notebook, max = the largest; best of "
          f"{args.rounds} rounds")
    print(f"benchmark took {time.perf_counter() - began:.0f} s; load "
          f"{Path('/proc/loadavg').read_text().split()[0]} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
