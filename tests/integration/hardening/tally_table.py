"""The bad-input tally as docs/reliability.md shows it, from what test_bad_inputs.py wrote
(tests/output/bad_inputs_tally.json).

  .venv/bin/python -m pytest tests/integration/hardening/test_bad_inputs.py -q
  .venv/bin/python tests/integration/hardening/tally_table.py            # print the table
  .venv/bin/python tests/integration/hardening/tally_table.py --write    # and put it into docs/reliability.md

With --write the table between the markers <!-- tally:start --> and <!-- tally:end --> is replaced.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TALLY = os.path.join(ROOT, 'tests', 'output', 'bad_inputs_tally.json')
DOC = os.path.join(ROOT, 'docs', 'reliability.md')
COLUMNS = ('clear', 'unclear', 'traceback', 'wrongly accepted', 'host changed')
ORDER = ('kvm_network', 'kvm_domain', 'kvm_volume', 'kvm_pool', 'kvm_host', 'kvm_bridge', 'kvm_migrate', 'kvm_snapshot')
START, END = '<!-- tally:start -->', '<!-- tally:end -->'


def table(tally):
    modules = tally['modules']
    names = [m for m in ORDER if m in modules] + sorted(m for m in modules if m not in ORDER)
    lines = ['| module | cases | %s |' % ' | '.join(COLUMNS), '| --- | ---: |' + ' ---: |' * len(COLUMNS)]
    total = dict((column, 0) for column in COLUMNS)
    for name in names:
        row = modules[name]
        for column in COLUMNS:
            total[column] += row.get(column, 0)
        lines.append('| %s | %d | %s |' % (name, sum(row.get(c, 0) for c in COLUMNS),
                                           ' | '.join(str(row.get(c, 0)) for c in COLUMNS)))
    lines.append('| **all** | **%d** | %s |' % (sum(total.values()), ' | '.join('**%d**' % total[c] for c in COLUMNS)))
    return '\n'.join(lines)


def main(argv):
    with open(TALLY) as stream:
        text = table(json.load(stream))
    print(text)
    if '--write' in argv:
        with open(DOC) as stream:
            doc = stream.read()
        head, rest = doc.split(START, 1)
        tail = rest.split(END, 1)[1]
        with open(DOC, 'w') as stream:
            stream.write('%s%s\n%s\n%s%s' % (head, START, text, END, tail))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
