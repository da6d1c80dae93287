#!/usr/bin/env python3
"""depgraph.py - check icsentry's dependency graph.

Dependencies point one way (DESIGN.md "Components and layout"):

    lib <- dissectors <- detectors <- agent        lib <- broker

and no two files depend on each other, directly or round a longer cycle.
A file is its .c and .h together (a "module").  Two graphs are checked:

  - includes: every #include "..." of the sources, which must name their
    folder ("lib/rd.h"); always checked;
  - symbols:  with --obj DIR (build/obj), which object file uses a symbol
    another defines (nm), so a call through a header declared elsewhere
    is caught too.

Usage: tests/depgraph.py [--obj build/obj] [-v]
Exit status 0 when both graphs are clean, 1 with one line per problem.
"""
import glob
import os
import re
import subprocess
import sys

FOLDERS = ['lib', 'dissectors', 'detectors', 'agent', 'broker', 'web']
# folder -> folders it may depend on (besides itself)
ALLOWED = {
    'lib': set(),
    'dissectors': {'lib'},
    'detectors': {'lib', 'dissectors'},
    'agent': {'lib', 'dissectors', 'detectors'},
    'broker': {'lib'},
    'web': {'lib', 'broker'},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module(path):
    return os.path.splitext(path)[0]


def include_graph(problems):
    edges = {}
    for folder in FOLDERS:
        for src in sorted(glob.glob(folder + '/*.[ch]')):
            text = open(src, encoding='utf-8', errors='replace').read()
            for inc in INCLUDE.findall(text):
                if '/' not in inc:
                    problems.append('%s: #include "%s" does not name its '
                                    'folder' % (src, inc))
                    continue
                if not os.path.exists(inc):
                    problems.append('%s: #include "%s": no such file'
                                    % (src, inc))
                    continue
                a, b = module(src), module(inc)
                if a != b:
                    edges.setdefault(a, set()).add(b)
    return edges


def symbol_graph(objdir):
    defs, uses = {}, {}
    for folder in FOLDERS:
        for obj in sorted(glob.glob(os.path.join(objdir, folder, '*.o'))):
            rel = os.path.relpath(obj, objdir)[:-2]
            if not os.path.exists(rel + '.c'):
                continue        # stale object of a moved file
            out = subprocess.run(['nm', '-P', obj], capture_output=True,
                                 text=True, check=True).stdout
            uses[rel] = set()
            for line in out.splitlines():
                f = line.split()
                if len(f) < 2:
                    continue
                if f[1] == 'U':
                    uses[rel].add(f[0])
                elif f[1] in 'TDBRV':
                    defs[f[0]] = rel
    edges = {}
    for a, syms in uses.items():
        for s in syms:
            b = defs.get(s)
            if b is not None and b != a:
                edges.setdefault(a, set()).add(b)
    return edges


def check(kind, edges, problems):
    for a in sorted(edges):
        for b in sorted(edges[a]):
            fa, fb = a.split('/')[0], b.split('/')[0]
            if fa != fb and fb not in ALLOWED.get(fa, set()):
                problems.append('%s: %s -> %s: %s/ may not depend on %s/'
                                % (kind, a, b, fa, fb))
    # cycles: Tarjan's strongly connected components
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    nodes = set(edges) | {b for s in edges.values() for b in s}
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    for comp in sccs:
        problems.append('%s: cycle between %s' % (kind, ', '.join(comp)))


def main():
    args = sys.argv[1:]
    verbose = '-v' in args
    objdir = None
    if '--obj' in args:
        objdir = args[args.index('--obj') + 1]
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    problems = []
    graphs = [('includes', include_graph(problems))]
    if objdir is not None:
        graphs.append(('symbols', symbol_graph(objdir)))
    for kind, edges in graphs:
        check(kind, edges, problems)
        if verbose:
            folders = {}
            for a, bs in edges.items():
                for b in bs:
                    k = (a.split('/')[0], b.split('/')[0])
                    if k[0] != k[1]:
                        folders[k] = folders.get(k, 0) + 1
            for (fa, fb), n in sorted(folders.items()):
                print('%s: %s -> %s (%d file edges)' % (kind, fa, fb, n))
    for p in problems:
        print('depgraph: ' + p, file=sys.stderr)
    if not problems:
        print('depgraph: %s: no cycle, every dependency points toward lib/'
              % ' and '.join(k for k, _ in graphs))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
