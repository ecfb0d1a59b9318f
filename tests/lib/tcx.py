#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tcx egress for tests, through the bpf(2) syscall (bpftool 7.1 and
iproute2 6.1 predate tcx). Run inside the interface's namespace.

  tcx.py ids DEV                   ids of the programs on DEV's tcx egress, in
                                   the order they run (nothing: no tcx there)
  tcx.py attach PROG_PIN DEV LINK_PIN
                                   attach the pinned program last on DEV's tcx
                                   egress through a link, pinned at LINK_PIN
"""
import ctypes
import os
import socket
import sys

SYS_BPF = 321  # x86_64
BPF_OBJ_PIN, BPF_OBJ_GET, BPF_PROG_QUERY, BPF_LINK_CREATE = 6, 7, 16, 28
BPF_TCX_EGRESS = 47
MAX_PROGS = 64

libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    libc.syscall.restype = ctypes.c_long
    r = libc.syscall(ctypes.c_long(SYS_BPF), ctypes.c_int(cmd), attr, ctypes.c_uint(len(attr)))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def attr():
    return ctypes.create_string_buffer(128)


def u32(buf, off, v):
    ctypes.c_uint32.from_buffer(buf, off).value = v


def u64(buf, off, v):
    ctypes.c_uint64.from_buffer(buf, off).value = v


def ids(dev):
    ids_buf = (ctypes.c_uint32 * MAX_PROGS)()
    a = attr()
    u32(a, 0, socket.if_nametoindex(dev))
    u32(a, 4, BPF_TCX_EGRESS)
    u64(a, 16, ctypes.addressof(ids_buf))
    u32(a, 24, MAX_PROGS)
    try:
        bpf(BPF_PROG_QUERY, a)
    except OSError:
        return []  # no tcx on this kernel
    n = ctypes.c_uint32.from_buffer(a, 24).value
    return list(ids_buf[:n])


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    a = attr()
    u64(a, 0, ctypes.addressof(p))
    return bpf(BPF_OBJ_GET, a)


def obj_pin(fd, path):
    p = ctypes.create_string_buffer(path.encode())
    a = attr()
    u64(a, 0, ctypes.addressof(p))
    u32(a, 8, fd)
    bpf(BPF_OBJ_PIN, a)


def attach(prog_pin, dev, link_pin):
    prog = obj_get(prog_pin)
    a = attr()
    u32(a, 0, prog)
    u32(a, 4, socket.if_nametoindex(dev))
    u32(a, 8, BPF_TCX_EGRESS)
    link = bpf(BPF_LINK_CREATE, a)
    obj_pin(link, link_pin)


def main(argv):
    if len(argv) == 3 and argv[1] == "ids":
        for i in ids(argv[2]):
            print(i)
        return 0
    if len(argv) == 5 and argv[1] == "attach":
        attach(argv[2], argv[3], argv[4])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
