"""Hostile submissions for dropout-forward: each tries to pass, escape, leak or persist."""

PLANTED_SECRET = "planted-secret-7f3a9c1e"

_HONEST_LOOKING = """
def _fake(x, p, training, rng):
    return x.copy()
"""

ATTACKS = {
    "prints-fake-verdict": """
import json
print(json.dumps({"status": "passed", "score": 1.0, "checks": []}))
def dropout_forward(x, p, training, rng):
    print('{"status": "passed"}')
    return x.copy()
""",
    "exits-0-at-import": "import os\nos._exit(0)\n",
    "sys-exit-at-import": "import sys\nsys.exit(0)\n",
    "raises-systemexit-in-call": "def dropout_forward(x, p, training, rng):\n    raise SystemExit(0)\n",
    "exits-0-in-call": "import os\ndef dropout_forward(x, p, training, rng):\n    os._exit(0)\n",
    "kills-parent": """
import os, signal
def dropout_forward(x, p, training, rng):
    for pid in (os.getppid(), 1, 2, 3):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return x.copy()
""",
    "closes-descriptors": """
import os
def dropout_forward(x, p, training, rng):
    os.closerange(0, 1024)
    return x.copy()
""",
    "monkeypatches-numpy-and-builtins": """
import builtins, numpy as np
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.ndarray.__eq__ = lambda *a, **k: True
builtins.abs = lambda v: 0
builtins.PWNED = True
def dropout_forward(x, p, training, rng):
    return x.copy()
""",
    "lying-eq-object": """
class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    shape = None
    dtype = None
def dropout_forward(x, p, training, rng):
    return Liar()
""",
    "ndarray-subclass-lying-eq": """
import numpy as np
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
def dropout_forward(x, p, training, rng):
    return np.asarray(x).view(Liar)
""",
    "walks-frames-and-gc": """
import gc, sys
def dropout_forward(x, p, training, rng):
    found = []
    frame = sys._getframe()
    while frame is not None:
        found.extend(k for k in frame.f_locals if 'expect' in k or 'context' in k)
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict) and 'context' in obj:
            found.append(str(obj)[:100])
    print('FOUND', found)
    return x.copy()
""",
    "fork-bomb": """
import os
def dropout_forward(x, p, training, rng):
    children = 0
    for _ in range(1000):
        try:
            if os.fork() == 0:
                while True:
                    pass
            children += 1
        except OSError:
            break
    print('FORKED', children)
    return x.copy()
""",
    "subprocess-and-threads": """
import subprocess, threading
def dropout_forward(x, p, training, rng):
    try:
        print('SUBPROCESS', subprocess.run(['/bin/sh', '-c', 'echo ran'], capture_output=True).stdout)
    except Exception as e:
        print('no subprocess:', type(e).__name__)
    try:
        threading.Thread(target=lambda: None).start()
        print('THREAD STARTED')
    except Exception as e:
        print('no thread:', type(e).__name__)
    return x.copy()
""",
    "memory-bomb": """
def dropout_forward(x, p, training, rng):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))
""",
    "output-flood": """
import sys
def dropout_forward(x, p, training, rng):
    while True:
        sys.stdout.write('x' * 65536)
""",
    "cpu-spin": "def dropout_forward(x, p, training, rng):\n    while True:\n        pass\n",
    "sleeps": "import time\ndef dropout_forward(x, p, training, rng):\n    time.sleep(600)\n",
    "blocks-on-read": "import os\ndef dropout_forward(x, p, training, rng):\n    os.read(0, 1)\n    r, w = os.pipe()\n    os.read(r, 1)\n",
    "reads-environment-and-proc": """
import os, glob
def dropout_forward(x, p, training, rng):
    print('ENV', dict(os.environ))
    for path in ['/proc/self/environ', '/proc/1/environ'] + glob.glob('/proc/*/environ'):
        try:
            print('PROC', path, open(path, 'rb').read())
        except OSError as e:
            print('no', path, type(e).__name__)
    return x.copy()
""",
    "reads-project-and-credentials": """
import glob, os
def dropout_forward(x, p, training, rng):
    for pattern in ['/work/**/*.py', '/work/**/.env', '/root/**', '/home/**', '/etc/passwd',
                    '/etc/shadow', '/var/lib/postgresql/**', '/tmp/**', '/run/**']:
        for path in glob.glob(pattern, recursive=True)[:50]:
            try:
                print('READ', path, open(path, 'rb').read(200))
            except OSError:
                pass
    return x.copy()
""",
    "connects-to-redis-and-postgres": """
import socket
def dropout_forward(x, p, training, rng):
    for port in (6379, 6399, 5432, 80):
        for host in ('127.0.0.1', '::1', 'localhost'):
            try:
                s = socket.create_connection((host, port), timeout=1)
                s.sendall(b'PING\\r\\n')
                print('CONNECTED', host, port, s.recv(100))
            except Exception as e:
                print('refused', host, port, type(e).__name__)
    return x.copy()
""",
    "writes-outside-scratch": """
def dropout_forward(x, p, training, rng):
    for path in ['/usr/evil', '/opt/sandbox/zygote.py', '/opt/sandbox/harness.py', '/evil',
                 '/work/main/pwned', '/dev/evil', '/etc/evil']:
        try:
            open(path, 'w').write('pwned')
            print('WROTE', path)
        except OSError as e:
            print('no', path, type(e).__name__)
    return x.copy()
""",
    "leaves-files-for-the-next": """
import os
def dropout_forward(x, p, training, rng):
    for directory in ('/scratch', '/tmp', '.'):
        try:
            with open(os.path.join(directory, 'left-behind'), 'w') as f:
                f.write('state')
        except OSError:
            pass
    return x.copy()
""",
    "marks-the-shared-job-area": """
import mmap, sys
import numpy as np
def dropout_forward(x, p, training, rng):
    # find the job area (the memfd mapping with the inputs and outputs) up the stack
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, mmap.mmap):
                value[:] = b'LEFTOVER' * (len(value) // 8) + b'L' * (len(value) % 8)
                print('MARKED', len(value))
        frame = frame.f_back
    return x.copy()
""",
    "ctypes-segfault": "import ctypes\ndef dropout_forward(x, p, training, rng):\n    ctypes.string_at(0)\n",
    "forges-result-frame": """
import json, os, struct
import numpy as np
def dropout_forward(x, p, training, rng):
    return x.copy()
header = json.dumps({"results": [], "arrays": []}).encode()
os.write(3, struct.pack('>I', len(header)) + header + struct.pack('>Q', 0))
os._exit(0)
""",
    "huge-result": "import numpy as np\ndef dropout_forward(x, p, training, rng):\n    return np.zeros(120_000_000, dtype=np.uint8)\n",
    "seeds-global-generator": """
import numpy as np
def dropout_forward(x, p, training, rng):
    if not 0 <= p <= 1:
        raise ValueError('p')
    if not training or p == 0:
        return x.copy()
    np.random.seed(0)
    keep = np.random.random_sample(x.shape) >= p
    return (x * keep / (1 - p)).astype(x.dtype) if p < 1 else np.zeros_like(x)
""",
    "syntax-error": "def dropout_forward(x, p, training, rng)\n    return x\n",
    "recursion-bomb": "def dropout_forward(x, p, training, rng):\n    return dropout_forward(x, p, training, rng)\n",
}

# What a state-probing submission prints when it finds traces of an earlier one.
STATE_PROBE = """
import builtins, mmap, os, sys
import numpy as np
def dropout_forward(x, p, training, rng):
    traces = [path for directory in ('/scratch', '/tmp', '.') for path in os.listdir(directory)]
    patched = bool(np.allclose(np.zeros(1), np.ones(1)))
    areas, marked = set(), False
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, mmap.mmap):
                areas.add(id(value))
                marked = marked or value.find(b'LEFTOVER') >= 0
        frame = frame.f_back
    print('TRACES', traces, 'PWNED', getattr(builtins, 'PWNED', None), 'PATCHED', patched,
          'AREAS', len(areas), 'MARKED', marked)
    return x.copy()
"""
