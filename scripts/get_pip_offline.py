"""Stand-in for ansible-test's downloaded get-pip script: same command line, no download.

ansible-test creates an empty virtualenv and runs `python get_pip.py <pip options> <packages>`. Here pip
comes from the interpreter's own ensurepip, and then installs the requested packages from the index.
ensurepip runs as a separate process: in-process it points PIP_CONFIG_FILE at /dev/null, which would
hide the machine's pip configuration (index, certificates) from the install that follows.
"""
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')

subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'], stdout=subprocess.DEVNULL)
arguments = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY_OPTIONS]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check'] + arguments))
