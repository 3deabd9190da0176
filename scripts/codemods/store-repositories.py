#!/usr/bin/env python3
"""One-off codemod (issue 26, h/store-split): `store.method(args)` on a Store becomes
`method(store, args)`, imported from the table's repository module (src/store/<table>.ts).

The type checker finds the calls: after the methods left Store, each one is a TS2339 "Property 'X'
does not exist on type 'Store'". Kept so a branch written against the old Store methods can be
ported after the merge:
    npx tsc -p tsconfig.json --noEmit --pretty false > /tmp/tc.txt; python3 scripts/codemods/store-repositories.py /tmp/tc.txt
then `npx biome format --write` on the changed files, and run it again until no such error is left.
"""
import os
import re
import sys
from collections import defaultdict

MODULES = {
    'bouncers': 'createBouncer listBouncers getBouncer findBouncerByKeyHash bouncersByKeyHash claimBouncerAddress createAutoBouncer deleteBouncers '
    'setBouncerRevoked setBouncerKind staleBouncers applyBouncerActivity bouncersRev',
    'decisions': 'addDecisions addAlerts softDeleteDecisions activeDecisions expiredDecisions decisionsCreatedAfter decisionsRev decisionsChangedSince '
    'decisionsChangedSincePage decisionChangesPage purgeExpiredDecisions',
    'alerts': 'alertsFor withAlerts',
    'refused-requests': 'recordRefused refusedRequestsFor refusedRequests',
    'usage-metrics': 'recordUsageMetrics usageMetricsReceivedAt latestUsageMetrics',
    'lapi-runs': 'recordLapiStart lapiStarts',
    'bouncer-changes': 'recordBouncerChanges bouncerChanges',
    'health-issues': 'openHealthIssues healthIssues healthIssue issueOpenCounts openHealthIssue touchHealthIssue resolveHealthIssue',
    'meta': 'getMeta setMetaIfAbsent setMeta secret',
}
MODULE_OF = {name: m for m, names in MODULES.items() for name in names.split()}
ERR = re.compile(r"^(.+?)\((\d+),(\d+)\): error TS2339: Property '(\w+)' does not exist on type 'Store'")
CLOSE = {'(': ')', '[': ']', '{': '}'}


def skip_string(s, i):
    q = s[i]
    i += 1
    while i < len(s):
        if s[i] == '\\':
            i += 2
            continue
        if q == '`' and s.startswith('${', i):
            i = match_forward(s, i + 1) + 1
            continue
        if s[i] == q:
            return i + 1
        i += 1
    raise ValueError('unterminated string')


def match_forward(s, i):
    """Index of the bracket closing the one at s[i]."""
    stack = [CLOSE[s[i]]]
    i += 1
    while stack:
        c = s[i]
        if c in '\'"`':
            i = skip_string(s, i)
            continue
        if s.startswith('//', i):
            i = s.index('\n', i)
            continue
        if c in CLOSE:
            stack.append(CLOSE[c])
        elif c in ')]}':
            if stack.pop() != c:
                raise ValueError('unbalanced')
        i += 1
    return i - 1


def receiver_start(s, dot):
    """Start of the member-access chain ending just before s[dot] (the `.` or `?.`)."""
    i = dot - 1
    while s[i] in ' \t\n':
        i -= 1
    while True:
        c = s[i]
        if c in ')]':
            depth = 0
            while True:
                if s[i] in ')]':
                    depth += 1
                elif s[i] in '([':
                    depth -= 1
                    if depth == 0:
                        break
                i -= 1
            i -= 1
        elif c == '!' or c.isalnum() or c in '_$#':
            i -= 1
        elif c == '.' or (c == '?' and s[i + 1] == '.'):
            i -= 1
        else:
            break
    return i + 1


def rewrite(path, sites):
    s = open(path).read()
    lines = s.split('\n')
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    used = defaultdict(set)
    for line, col, name in sorted(sites, reverse=True):
        at = offsets[line - 1] + col - 1
        if not s.startswith(name, at):
            print(f'{path}:{line}: {name} (a type, e.g. Store[\'{name}\']); convert by hand')
            continue
        dot = at - 1
        if s[dot - 1] == '?':
            dot -= 1
        start = receiver_start(s, dot)
        recv = s[start:dot].rstrip().rstrip('!')
        op = at + len(name)
        if s[op] != '(':
            print(f'{path}:{line}: {name} used without a call; convert by hand')
            continue
        close = match_forward(s, op)
        args = s[op + 1 : close].strip()
        call = f"{name}({recv}{', ' + args if args else ''})"
        s = s[:start] + call + s[close + 1 :]
        used[MODULE_OF[name]].add(name)
    add_imports(path, s, used)


def add_imports(path, s, used):
    root = os.getcwd()
    lines = []
    for m, names in sorted(used.items()):
        rel = os.path.relpath(os.path.join(root, 'src/store', m + '.ts'), os.path.dirname(os.path.abspath(path)))
        if not rel.startswith('.'):
            rel = './' + rel
        found = re.search(r"import \{([^}]*)\} from '" + re.escape(rel) + "';", s)
        if found:
            have = [x.strip() for x in found.group(1).split(',') if x.strip()]
            s = s.replace(found.group(0), "import { " + ', '.join(sorted(set(have) | names)) + " } from '" + rel + "';")
        else:
            lines.append("import { " + ', '.join(sorted(names)) + " } from '" + rel + "';")
        for name in names:
            if re.search(r'\b(const|let|var|function)\s+' + name + r'\b', s):
                print(f'{path}: "{name}" is also a local name; check it')
    if lines:
        last = None
        for mt in re.finditer(r"^import [^;]*?;\n", s, re.M | re.S):
            last = mt
        at = last.end() if last else 0
        s = s[:at] + '\n'.join(lines) + '\n' + s[at:]
    open(path, 'w').write(s)


def main():
    sites = defaultdict(list)
    for line in open(sys.argv[1]):
        m = ERR.match(line)
        if m and m.group(4) in MODULE_OF:
            sites[m.group(1)].append((int(m.group(2)), int(m.group(3)), m.group(4)))
    for path, found in sites.items():
        rewrite(path, found)
        print(f'{path}: {len(found)} calls')


main()
