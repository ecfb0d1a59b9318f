#!/usr/bin/env python3
"""tests/lib/layering.py REPO OBJDIR - the loader's modules call only the
modules above them (the rule loader/loader.h states, issue 12: no
dependency cycle). The order is that of loader.h's sections
("/* ---- x.c, y.c: ..."); a module's calls are the undefined symbols of its
object in OBJDIR (nm) that another module's object defines. Prints each
call downwards as "a -> b (symbol)" and exits 1 if there is one, 2 if an
object is missing."""
import os
import re
import subprocess
import sys


def section_order(header):
    order = []
    for m in re.finditer(r'/\* ---- ([a-z_., ]+?):', header):
        order += [f.strip()[:-2] for f in m.group(1).split(',') if f.strip().endswith('.c')]
    return order


def symbols(obj):
    defined, used = set(), set()
    out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in 'TDBR':
            defined.add(p[2])
        elif len(p) == 2 and p[0] == 'U':
            used.add(p[1])
    return defined, used


def main():
    repo, objdir = sys.argv[1], sys.argv[2]
    with open(os.path.join(repo, 'loader/loader.h')) as f:
        order = section_order(f.read())
    owner, calls = {}, {}
    for mod in order:
        obj = os.path.join(objdir, mod + '.o')
        if not os.path.exists(obj):
            print(f'{obj}: missing (build first)')
            return 2
        defined, calls[mod] = symbols(obj)
        owner.update((s, mod) for s in defined)
    bad = 0
    for mod in order:
        for sym in sorted(calls[mod]):
            to = owner.get(sym, mod)
            if order.index(to) > order.index(mod):
                print(f'{mod} -> {to} ({sym})')
                bad += 1
    print(f'{len(order)} modules in the order of loader.h, {bad} calls downwards')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
