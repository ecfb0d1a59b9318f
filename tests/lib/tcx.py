#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tcx egress for tests, through the bpf(2) syscall (bpftool 7.1 and
iproute2 6.1 predate tcx). Run inside the interface's namespace, or import
it and call ids_in_ns (lvip_state.py, without a process per query).

  tcx.py ids DEV                   ids of the programs on DEV's tcx egress, in
                                   the order they run (nothing: no tcx there)
  tcx.py probe DEV                 exit 0 if the kernel has tcx, 1 if not
  tcx.py attach PROG_PIN DEV LINK_PIN
                                   attach the pinned program last on DEV's tcx
                                   egress through a link, pinned at LINK_PIN
"""
import ctypes
import os
import socket
import sys
import threading

SYS_BPF = 321  # x86_64
BPF_OBJ_PIN, BPF_OBJ_GET, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 6, 7, 13, 15
BPF_PROG_QUERY, BPF_LINK_CREATE = 16, 28
CLONE_NEWNET = 0x40000000
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


def query(dev, ids_buf):
    a = attr()
    u32(a, 0, socket.if_nametoindex(dev))
    u32(a, 4, BPF_TCX_EGRESS)
    u64(a, 16, ctypes.addressof(ids_buf))
    u32(a, 24, len(ids_buf))
    bpf(BPF_PROG_QUERY, a)
    return ctypes.c_uint32.from_buffer(a, 24).value


def ids(dev):
    ids_buf = (ctypes.c_uint32 * MAX_PROGS)()
    try:
        n = query(dev, ids_buf)
    except OSError:
        return []  # no tcx on this kernel
    return list(ids_buf[:n])


def ids_in_ns(ns, dev):
    """ids(dev) in the network namespace NS (/run/netns/NS): asked from a
    thread of its own, as setns(2) moves only the calling thread; [] when
    DEV or NS does not exist."""
    out = []

    def query():
        try:
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
        except OSError:
            return
        try:
            if libc.setns(fd, CLONE_NEWNET) == 0:
                out.extend(ids(dev))
        except OSError:
            pass
        finally:
            os.close(fd)

    t = threading.Thread(target=query)
    t.start()
    t.join()
    return out


def prog_name(prog_id):
    """The name of program PROG_ID ('' when it is gone)."""
    a = attr()
    u32(a, 0, prog_id)
    try:
        fd = bpf(BPF_PROG_GET_FD_BY_ID, a)
    except OSError:
        return ""
    info = ctypes.create_string_buffer(96)  # struct bpf_prog_info up to its name
    a = attr()
    u32(a, 0, fd)
    u32(a, 4, len(info))
    u64(a, 8, ctypes.addressof(info))
    try:
        bpf(BPF_OBJ_GET_INFO_BY_FD, a)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return info.raw[64:80].split(b"\0")[0].decode()


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
    if len(argv) == 3 and argv[1] == "probe":
        try:
            query(argv[2], (ctypes.c_uint32 * MAX_PROGS)())
        except OSError:
            return 1
        return 0
    if len(argv) == 5 and argv[1] == "attach":
        attach(argv[2], argv[3], argv[4])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
