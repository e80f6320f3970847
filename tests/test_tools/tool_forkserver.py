# Copyright (c) mmreid_video contributors. All rights reserved.
"""A fork server for the tool runs of one test session.

Every tool run starts an interpreter that imports torch, mmcv, mmengine and
mmpretrain (~2.5 s of CPU) before its own few seconds of work; a test run
starts ~60 of them. The server imports those libraries once and forks a
child per tool run; the child takes the caller's stdin/stdout/stderr
(passed over a Unix socket), working directory, environment and argv, and
runs the tool as ``python`` would (``script.py``, ``-c CODE`` or
``-m MODULE``, as ``__main__``). Our package is preloaded too, from the
checkout the runs import it from (``PYTHONPATH``; a run with another one
gets a real interpreter).

The caller runs ``python -I -S tool_forkserver.py SOCKET ARGS...`` (the
client: standard library only, it starts in ~20 ms) where it would run
``python ARGS...``: the client's exit code is the tool's, and killing the
client kills the tool (and its process group). The client runs a real
interpreter instead when the server cannot stand in for one: interpreter
options other than ``-c``/``-m``, an environment whose import-time settings
(threads, allocator, ``PYTHON*``) differ from the server's, or no server.

Server: ``python tool_forkserver.py --serve SOCKET`` (see
``tool_runner.python_cmd``, which starts one per test session).
"""
import json
import os
import select
import signal
import socket
import struct
import sys

HEADER = struct.Struct('!Q')
# Environment variables read when the preloaded libraries are imported (or
# by the interpreter at start): a run whose values differ from the server's
# gets a real interpreter.
IMPORT_TIME_ENV = ('PYTHON', 'OMP_', 'GOMP_', 'KMP_', 'MKL_', 'OPENBLAS_',
                   'NPY_', 'TORCH', 'PYTORCH', 'CUDA', 'OPENCV_', 'LD_',
                   'MALLOC_', 'MPL', 'MATPLOTLIB')
# After the libraries: what a Runner imports on first use (its visualizer's
# figure, the environment report, the MARS loaders' .mat reader; ~0.45 s of
# CPU per tool run otherwise), then our package's registry locations from
# this checkout (~0.2 s), as every tool run imports them.
PRELOAD = ('numpy', 'scipy', 'cv2', 'torch', 'mmengine', 'mmengine.runner',
           'mmcv', 'mmpretrain', 'mmpretrain.models', 'matplotlib.figure',
           'matplotlib.backends.backend_agg', 'distutils', 'scipy.io',
           'scipy.sparse', 'mmreid_video.engine', 'mmreid_video.datasets',
           'mmreid_video.models', 'mmreid_video.evaluation',
           'mmreid_video.visualization', 'mmreid_video.apis')


def _import_time_env(env: dict) -> dict:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_ENV)}


def _same_import_env(env: dict, before: dict, set_by_imports: dict) -> bool:
    """Whether a run with ``env`` imports the libraries as the server did
    (under ``before``); a variable the imports set themselves (e.g. cv2's
    LD_LIBRARY_PATH) may already hold that value."""
    env, before = _import_time_env(env), _import_time_env(before)
    return all(
        env.get(k) == before.get(k) or env.get(k) == set_by_imports.get(k)
        for k in {
            **env,
            **before
        })


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------
def client(sock_path: str, args: list) -> None:
    """Run ``python ARGS`` in a child of the server; exit as it exits."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(sock_path)
    except OSError:  # no server: run it here
        os.execv(sys.executable, [sys.executable, *args])
    body = json.dumps(dict(argv=args, cwd=os.getcwd(),
                           env=dict(os.environ))).encode()
    socket.send_fds(sock, [HEADER.pack(len(body))], [0, 1, 2])
    sock.sendall(body)
    reply = b''
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    if not reply:
        sys.exit(f'{__file__}: the fork server ended during the run of '
                 f'python {" ".join(args)}')
    answer = json.loads(reply)
    if answer.get('fallback'):
        os.execv(sys.executable, [sys.executable, *args])
    status = answer['status']
    if os.WIFSIGNALED(status):  # end by the same signal
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):  # no handler there
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    sys.exit(os.waitstatus_to_exitcode(status))


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------
def _parse_argv(argv: list):
    """``(kind, target, argv of the run)`` of ``python ARGV``, or None
    when a real interpreter must run it."""
    if not argv:
        return None
    if argv[0] == '-c' and len(argv) > 1:
        return 'code', argv[1], ['-c', *argv[2:]]
    if argv[0] == '-m' and len(argv) > 1:
        return 'module', argv[1], [argv[1], *argv[2:]]
    if argv[0].startswith('-') or argv[0] == '':
        return None
    return 'script', argv[0], list(argv)


def _recv_request(conn: socket.socket):
    msg, fds, _, _ = socket.recv_fds(conn, HEADER.size, 3)
    if len(msg) != HEADER.size or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return None, []
    (size, ) = HEADER.unpack(msg)
    body = b''
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            break
        body += chunk
    return json.loads(body), fds


def _become_job(request: dict, fds: list, parsed) -> tuple:
    """In the forked child: take the caller's process state."""
    os.setsid()  # its own process group: killed as a whole
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    encoding = sys.__stdout__.encoding
    sys.stdin = sys.__stdin__ = open(0, 'r', closefd=False)
    sys.stdout = sys.__stdout__ = open(
        1,
        'w',
        encoding=encoding,
        closefd=False,
        buffering=-1 if not os.isatty(1) else 1)
    sys.stderr = sys.__stderr__ = open(
        2,
        'w',
        encoding=encoding,
        errors='backslashreplace',
        closefd=False,
        buffering=1)
    # A fresh interpreter seeds these from the OS, not from its parent.
    import random
    random.seed()
    if 'numpy' in sys.modules:
        sys.modules['numpy'].random.seed()
    kind, target, argv = parsed
    sys.argv = argv
    first = {
        'code': '',
        'module': os.getcwd(),
        'script': os.path.dirname(os.path.abspath(target))
    }[kind]
    sys.path[0] = first
    return kind, target


def serve(sock_path: str) -> tuple:
    """Preload the libraries, then fork a child per request. Returns only
    in a child: ``(kind, target)`` of the run it is to make."""
    import importlib
    before = dict(os.environ)
    for name in PRELOAD:
        importlib.import_module(name)
    # Set by the imports (e.g. cv2's Qt paths): a fresh interpreter of the
    # run would set them too.
    set_by_imports = {
        k: v
        for k, v in os.environ.items() if before.get(k) != v
    }
    parent, server = os.getppid(), os.getpid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(16)
    # Stopped by the test session: end the runs left (see ``finally``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print('ready', flush=True)
    jobs = {}  # pid -> connection of its client
    try:
        while os.getppid() == parent:  # the test session is alive
            # A run's end is seen at the next wake-up: every 5 ms keeps
            # that wait short (~0.1 % of a core while idle).
            ready, _, _ = select.select([listener, *jobs.values()], [], [],
                                        0.005)
            for conn in ready:
                if conn is listener:
                    conn, _ = listener.accept()
                    request, fds = _recv_request(conn)
                    parsed = request and _parse_argv(request['argv'])
                    if not parsed or not _same_import_env(
                            request['env'], before, set_by_imports):
                        for fd in fds:
                            os.close(fd)
                        conn.sendall(json.dumps(dict(fallback=True)).encode())
                        conn.close()
                        continue
                    pid = os.fork()
                    if pid == 0:
                        listener.close()
                        for other in (conn, *jobs.values()):
                            other.close()
                        request['env'] = dict(set_by_imports, **request['env'])
                        return _become_job(request, fds, parsed)
                    for fd in fds:
                        os.close(fd)
                    jobs[pid] = conn
                elif not conn.recv(1):  # the client is gone: so is the run
                    pid = next(p for p, c in jobs.items() if c is conn)
                    _kill_group(pid)
            _reap(jobs)
    finally:
        if os.getpid() == server:  # not in a child: end the runs left
            for pid in jobs:
                _kill_group(pid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(jobs: dict) -> None:
    while jobs:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        conn = jobs.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(json.dumps(dict(status=status)).encode())
            except OSError:  # the client was killed meanwhile
                pass
            conn.close()


def run_job(kind: str, target: str) -> None:
    """Run the tool as ``python`` does, then end the child as
    multiprocessing ends its forked workers: wait for non-daemon threads,
    run the ``atexit`` functions (logging, temporary files, finalizers),
    flush the output and leave with the tool's exit code. The interpreter's
    teardown is skipped: freeing the preloaded modules would copy every page
    the child shares with the server (~1 s)."""
    import atexit
    import runpy
    import threading
    try:
        if kind == 'code':
            main = type(sys)('__main__')
            sys.modules['__main__'] = main
            exec(compile(target, '<string>', 'exec'), main.__dict__)
        elif kind == 'module':
            runpy.run_module(target, run_name='__main__', alter_sys=True)
        else:
            runpy.run_path(target, run_name='__main__')
        code = 0
    except SystemExit as e:  # as the interpreter reads sys.exit(...)
        code = e.code if isinstance(e.code, int) else e.code is not None
        if not isinstance(e.code, (int, type(None))):
            print(e.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 -- printed as python prints it
        sys.excepthook(*sys.exc_info())
        code = 1
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(int(code))


if __name__ == '__main__':
    if sys.argv[1] == '--serve':
        job = serve(sys.argv[2])
        if job is not None:  # in a child; None: the test session ended
            run_job(*job)
    else:
        client(sys.argv[1], sys.argv[2:])
