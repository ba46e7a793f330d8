"""What every benchmark of bench/ shares: the machine and versions it ran on, timing, and the report
(a markdown table and a PNG plot in docs/benchmarks/)."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / '.venv' / 'bin' / 'python'
BENCH_CACHE = ROOT / '.cache' / 'bench'
WORK = BENCH_CACHE / 'work'
REPORTS = ROOT / 'docs' / 'benchmarks'
PEER_VENV = BENCH_CACHE / 'peer-venv'
PEER_PACKAGE = 'ansible>=12,<13'     # the newest `ansible` with community.libvirt 2.x that runs on Python 3.11


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')


def load():
    return '%.2f / %.2f / %.2f' % os.getloadavg()


def machine():
    model = ''
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    memory = ''
    try:
        kib = int(Path('/proc/meminfo').read_text().split()[1])
        memory = '%.0f GiB' % (kib / 1048576.0)
    except (OSError, ValueError, IndexError):
        pass
    return dict(cores=os.cpu_count(), cpu=model, memory=memory, kernel=platform.release())


def peer_venv():
    """A venv of its own under .cache/bench/ with the `ansible` package (community.libvirt inside); never the main one."""
    python = PEER_VENV / 'bin' / 'python'
    if not (PEER_VENV / 'bin' / 'ansible-playbook').exists():
        subprocess.run(['python3', '-m', 'venv', str(PEER_VENV)], check=True)
        subprocess.run([str(python), '-m', 'pip', 'install', '-q', PEER_PACKAGE], check=True)
    return PEER_VENV


def peer_versions():
    site = next((PEER_VENV / 'lib').glob('python3*/site-packages'))
    manifest = json.loads((site / 'ansible_collections' / 'community' / 'libvirt' / 'MANIFEST.json').read_text())
    out = subprocess.run([str(PEER_VENV / 'bin' / 'python'), '-c',
                          'import importlib.metadata as m; print(m.version("ansible"), m.version("ansible-core"))'],
                         capture_output=True, text=True, check=True).stdout.split()
    return dict(community_libvirt=manifest['collection_info']['version'], ansible=out[0], peer_ansible_core=out[1])


def versions(conn=None):
    import ansible
    import lxml.etree
    import libvirt
    found = dict(python=platform.python_version(), ansible_core=ansible.__version__,
                 libvirt_python=libvirt.getVersion(), lxml='.'.join(str(p) for p in lxml.etree.LXML_VERSION[:3]))
    found['libvirt_python'] = _dotted(found['libvirt_python'])
    if conn is not None:
        found['libvirtd'] = _dotted(conn.getLibVersion())
        found['qemu'] = _dotted(conn.getVersion())
    collection = (ROOT / 'galaxy.yml').read_text()
    found['kvmops_kvm'] = next(line.split(':', 1)[1].strip() for line in collection.splitlines()
                               if line.startswith('version:'))
    found['git'] = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True,
                                  text=True, check=False).stdout.strip()
    return found


def _dotted(number):
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000, number % 1000)


def timed(command, env=None, check=True, cwd=None):
    """(seconds, completed process) of one command."""
    began = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=cwd,
                          stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - began
    if check and done.returncode != 0:
        raise RuntimeError('%s failed (rc %s):\n%s\n%s'
                           % (' '.join(map(str, command)), done.returncode, done.stdout[-3000:], done.stderr[-3000:]))
    return seconds, done


def spread(values):
    """median, min, max."""
    return statistics.median(values), min(values), max(values)


def header(title, script, started, load_before, load_after, facts, extra=()):
    m = machine()
    lines = ['# %s' % title, '',
             'Measured %s by `%s` (`make bench`).' % (started, script), '',
             '- machine: %d cores (%s), %s RAM, kernel %s; guests under QEMU TCG (no hardware KVM)'
             % (m['cores'], m['cpu'] or 'unknown CPU', m['memory'], m['kernel']),
             '- load average (1/5/15 min) before: %s, after: %s. The machine is shared: other engineers were '
             'running tests at the same time, so absolute times carry their noise; the ratios, measured '
             'side by side in one run, are the figures to read.' % (load_before, load_after),
             '- versions: %s' % ', '.join('%s %s' % (k.replace('_', '-'), v) for k, v in sorted(facts.items()))]
    lines += list(extra)
    return lines


def table(columns, rows):
    lines = ['| %s |' % ' | '.join(columns), '|%s|' % '|'.join('---' for _column in columns)]
    lines += ['| %s |' % ' | '.join(str(cell) for cell in row) for row in rows]
    return lines


def write(name, lines):
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / ('%s.md' % name)
    path.write_text('\n'.join(lines) + '\n')
    return path


def bar_plot(name, title, labels, values, unit='s', log=False, errors=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axis = plt.subplots(figsize=(12, 0.45 * len(labels) + 1.8))
    positions = range(len(labels))
    axis.barh(list(positions), values, xerr=errors, color='#3b75af', capsize=3)
    axis.set_yticks(list(positions))
    axis.set_yticklabels(labels)
    axis.invert_yaxis()
    axis.set_xlabel(unit + (' (log scale)' if log else ''))
    if log:
        axis.set_xscale('log')
    for position, value in zip(positions, values):
        axis.text(value, position, ' %.2f' % value, va='center', fontsize=8)
    axis.set_title(title, fontsize=10, wrap=True)
    fig.tight_layout()
    path = REPORTS / ('%s.png' % name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_raw(name, data):
    """The measurements behind a report, beside it (docs/benchmarks/<name>.json)."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / ('%s.json' % name)).write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + '\n')


def panels_plot(name, title, xlabel, panels):
    """Side by side line plots: panels = [(ylabel, log, {label: ([x...], [y...])}), ...]."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2))
    for axis, (ylabel, log, series) in zip(axes, panels):
        for label, (xs, ys) in series.items():
            axis.plot(xs, ys, marker='o', label=label)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        if log:
            axis.set_yscale('log')
        else:
            axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path = REPORTS / ('%s.png' % name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def line_plot(name, title, xlabel, series, ylabel):
    """series: {label: ([x...], [y...])}."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axis = plt.subplots(figsize=(8, 4.5))
    for label, (xs, ys) in series.items():
        axis.plot(xs, ys, marker='o', label=label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(True, alpha=0.3)
    axis.legend()
    fig.tight_layout()
    path = REPORTS / ('%s.png' % name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
