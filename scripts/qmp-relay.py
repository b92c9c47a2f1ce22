#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Host side of the guest's QMP access (scripts/vm.sh starts it, one per VM).
#
# The guest cannot reach the host's QMP unix socket, but it shares the run's
# output directory over 9p.  scripts/guest-qmp.sh writes one QMP command as
# <outdir>/qmp/<name>.req (written as .tmp, then renamed); this relay sees
# it, runs it on QEMU's QMP socket (a connection per request, so the socket
# stays free for people on the host in between), and writes the reply as
# <outdir>/qmp/<name>.rep the same way.  A request that is not one JSON
# object, or that QEMU does not answer, gets an
# {"error": {"class": "RelayError", "desc": ...}} reply.
#
# usage: qmp-relay.py <outdir> <qmp-socket> <qemu-pid>
#
# It writes <outdir>/qmp/relay (its pid) when it is ready, logs to
# <outdir>/qmp/relay.log, and exits when QEMU does (checked every poll) or on
# SIGTERM/SIGINT.  Polling the directory every 50 ms costs nothing next to
# a TCG guest and needs no inotify.
import json
import os
import signal
import socket
import sys
import time

POLL_S = 0.05
QMP_TIMEOUT_S = 30.0


def log(f, msg):
    f.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    f.flush()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class QMPError(Exception):
    pass


def qmp_read(f):
    """One QMP message that is not an asynchronous event."""
    while True:
        line = f.readline()
        if not line:
            raise QMPError("QEMU closed the QMP connection")
        msg = json.loads(line)
        if "event" not in msg:
            return msg


def qmp_run(sock_path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(QMP_TIMEOUT_S)
    try:
        s.connect(sock_path)
        f = s.makefile("rw", encoding="utf-8", newline="\n")
        greeting = qmp_read(f)
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        f.flush()
        r = qmp_read(f)
        if "return" not in r:
            raise QMPError("qmp_capabilities failed: %r" % r)
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        return qmp_read(f)
    finally:
        s.close()


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: %s <outdir> <qmp-socket> <qemu-pid>\n" % sys.argv[0])
        return 2
    outdir, sock_path, qemu_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    qdir = os.path.join(outdir, "qmp")
    os.makedirs(qdir, exist_ok=True)
    for name in os.listdir(qdir):
        if name.endswith((".req", ".rep", ".tmp")) or name == "relay":
            os.unlink(os.path.join(qdir, name))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    logf = open(os.path.join(qdir, "relay.log"), "a", encoding="utf-8")
    log(logf, "relay %d for QEMU %d on %s" % (os.getpid(), qemu_pid, sock_path))
    write_atomic(os.path.join(qdir, "relay"), "%d\n" % os.getpid())
    try:
        while not stop and alive(qemu_pid):
            try:
                names = sorted(n for n in os.listdir(qdir) if n.endswith(".req"))
            except OSError:
                names = []
            for name in names:
                req = os.path.join(qdir, name)
                rep = req[:-4] + ".rep"
                try:
                    with open(req, encoding="utf-8") as f:
                        text = f.read()
                    os.unlink(req)
                except OSError:
                    continue
                try:
                    cmd = json.loads(text)
                    if not isinstance(cmd, dict) or "execute" not in cmd:
                        raise ValueError('not a QMP command object ({"execute": ...})')
                    reply = qmp_run(sock_path, cmd)
                except (ValueError, OSError, QMPError) as e:
                    reply = {"error": {"class": "RelayError", "desc": str(e)}}
                log(logf, "%s -> %s" % (text.strip(), json.dumps(reply)))
                write_atomic(rep, json.dumps(reply) + "\n")
            time.sleep(POLL_S)
    finally:
        try:
            os.unlink(os.path.join(qdir, "relay"))
        except OSError:
            pass
        log(logf, "relay %d exits" % os.getpid())
    return 0


if __name__ == "__main__":
    sys.exit(main())
