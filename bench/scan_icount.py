#!/usr/bin/env python3
"""scan_icount.py - instructions per 64 bytes that each scan kernel
executes, NEON against the portable kernels, counted under qemu-user.

    python3 bench/scan_icount.py BUILD_AARCH64 [BYTES]

Builds bench/scan_icount.c against BUILD_AARCH64/libmmf.a with
aarch64-linux-gnu-gcc, runs it under qemu-aarch64-static with the log of
translated blocks and of every block executed (-d in_asm,exec,nochain), and
adds up the instructions of the blocks executed. The run that only makes
the text is subtracted, so what is left is the kernel, divided by
BYTES / 64. This counts instructions, not time: the speed of the kernels on
ARM hardware cannot be measured here.
"""
import os
import re
import subprocess
import sys
import tempfile

SYSROOT = "/usr/aarch64-linux-gnu"
KERNELS = ["count_byte", "find_byte", "find", "count_str", "positions"]


def executed(prog, variant, kernel, n, tmp):
    log = os.path.join(tmp, "qemu.log")
    subprocess.run(["qemu-aarch64-static", "-L", SYSROOT, "-d",
                    "in_asm,exec,nochain", "-D", log, prog, variant, kernel,
                    str(n)], check=True, stdout=subprocess.DEVNULL)
    size, start, total = {}, None, 0
    with open(log, errors="replace") as f:
        for line in f:
            m = re.match(r"^0x([0-9a-f]+):\s", line)
            if m:  # an instruction of the block being translated
                if start is None:
                    start = int(m.group(1), 16)
                    size[start] = 0
                size[start] += 1
                continue
            start = None
            m = re.match(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/",
                         line)
            if m:  # a block executed
                total += size.get(int(m.group(1), 16), 0)
    os.remove(log)
    return total


def main(argv):
    build = argv[0] if argv else "build-aarch64"
    n = int(argv[1]) if len(argv) > 1 else 1 << 18
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "scan_icount")
        subprocess.run(["aarch64-linux-gnu-gcc", "-O2", "-I",
                        os.path.join(root, "src"), "-I",
                        os.path.join(root, "include"),
                        os.path.join(root, "bench", "scan_icount.c"),
                        os.path.join(build, "libmmf.a"), "-lpthread", "-o",
                        prog], check=True)
        base = {v: executed(prog, v, "none", n, tmp)
                for v in ("generic", "neon")}
        print(f"instructions per 64 bytes over {n} bytes of text "
              "(a '\\n' every 41 bytes):")
        for k in KERNELS:
            g, v = ((executed(prog, var, k, n, tmp) - base[var]) / (n / 64)
                    for var in ("generic", "neon"))
            print(f"  {k:11s} generic {g:6.1f}  neon {v:6.1f}  "
                  f"({g / v:.2f}x fewer)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
