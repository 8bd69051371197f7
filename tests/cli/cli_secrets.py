"""neonflow CLI tests: The secrets and fields groups. Run through test_cli.py."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from cli_common import *  # noqa: F401,F403 (KEY, PROJECT, tap, run, Emulator, ...)


def wait_for(path, secs=30):
    end = time.monotonic() + secs
    while time.monotonic() < end and not os.path.exists(path):
        time.sleep(0.05)
    return os.path.exists(path)


def paused_promote(emu, tag, extra_args, key_args, env=None):
    """Runs promote with a verify command that reports what it was given
    (descriptors, environment) and waits until the test has read the CLI's
    /proc/PID/cmdline; the hook then vetoes. Returns (result, cmdline, fds, env)
    where fds has one "NUMBER TARGET" line per descriptor the hook's program had."""
    d = tempfile.mkdtemp(prefix="neonflow-hook.", dir=emu.dir)
    # the hook's own program lists what it inherited (a shell would show its
    # own saved descriptors)
    with open(os.path.join(d, "fds.py"), "w") as f:
        f.write("import os, sys\nfds = []\nfor n in os.listdir('/proc/self/fd'):\n"
                "    try:\n        fds.append('%s %s' % (n, os.readlink('/proc/self/fd/' + n)))\n"
                "    except OSError:\n        pass\nopen(sys.argv[1], 'w').write('\\n'.join(fds))\n")
    hook = ('{py} {d}/fds.py {d}/fds; env > {d}/env; '
            'echo ready > {d}/ready; i=0; while [ ! -e {d}/go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; '
            'exit 1').format(d=d, py=sys.executable)
    e = clean_env()
    e.update(env or {})
    cmd = [CLI] + key_args + ["--api-host", emu.base, "--project-id", PROJECT, "promote", "--yes",
                              "--verify-cmd", hook] + extra_args
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    cmdline = b""
    if wait_for(os.path.join(d, "ready")):
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read()
    open(os.path.join(d, "go"), "w").close()
    try:
        out, err = p.communicate(timeout=60)
        res = Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), 0)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        res = Result(-999, "", "", 0)

    def read(name):
        try:
            with open(os.path.join(d, name)) as f:
                return f.read()
        except OSError:
            return ""
    return res, cmdline, read("fds"), read("env")


def group_secrets():
    emu = Emulator()
    r = run(emu, "setup", "--json")
    tap(r.rc == 0, "setup", r)

    # --api-key is gone from /proc/PID/cmdline while the command runs, in both spellings
    for key_args, what in (([ "--api-key", KEY], "--api-key KEY"), (["--api-key=" + KEY], "--api-key=KEY")):
        res, cmdline, fds, env = paused_promote(emu, "argv", [], key_args)
        args = cmdline.split(b"\0")
        tap(res.rc == 3 and cmdline and KEY.encode() not in cmdline and b"promote" in args
            and any(a.endswith(b"x" * len(KEY)) for a in args),
            "%s is overwritten in /proc/PID/cmdline" % what, "%r\n%s" % (cmdline, res))
        # the hook inherits no descriptor but 0-2 and no API key
        listed = [l.split(" ", 1) for l in fds.splitlines() if l.strip()]
        extra = [l for l in listed if int(l[0]) > 2 and not l[1].startswith("/proc/")]
        tap(len(listed) >= 3 and not extra and "socket:" not in fds,
            "hook command (%s) inherits no socket or other descriptor" % what, fds)
        tap("NEON_API_KEY=" not in env and KEY not in env and "NEONFLOW_BRANCH_ID=" in env,
            "hook command (%s) does not get the API key" % what, env)
    # the key from the environment is not passed on either, unless asked for
    res, cmdline, fds, env = paused_promote(emu, "env", [], [], env={"NEON_API_KEY": KEY})
    tap(res.rc == 3 and "NEON_API_KEY=" not in env and KEY not in env,
        "NEON_API_KEY from the environment is removed from the hook's", env)
    res, cmdline, fds, env = paused_promote(emu, "hookkey", ["--hook-api-key"], ["--api-key", KEY])
    tap(res.rc == 3 and ("NEON_API_KEY=%s" % KEY) in env.splitlines(), "--hook-api-key passes NEON_API_KEY", env)

    # the key never appears in the CLI's messages
    other = "napi_misspelled_secret_value_0123456789"
    r = run(emu, "--api-kye=" + other, "branches", "list")
    tap(r.rc == 2 and other not in r.err and "--api-kye" in r.err and "misspelled" not in r.err,
        "misspelled --api-kye=VALUE: only the option's name is printed", r)
    r = run(emu, "branches", "list", "--api-key", KEY, "--api-kye", KEY)
    tap(r.rc == 2 and KEY not in r.err and KEY[:12] not in r.err, "misspelled option after the key: no key", r)
    r = run(emu, "branches", "list", "--project-id", KEY)
    tap(r.rc != 0 and KEY not in r.err + r.out, "the key given as the project id is not printed", r)
    r = run(emu, "promote", "--yes", "--project-id", KEY, "--json")
    tap(r.rc != 0 and KEY not in r.err + r.out and KEY[-12:] not in r.err + r.out,
        "promote with the key as project id: not in the report or the error", r)
    r = run(emu, "frobnicate", KEY)
    tap(r.rc == 2 and KEY not in r.err, "the key as a stray word is not echoed", r)
    port = emu.base.split(":")[2].split("/")[0]
    for host, what in (("http://u:%s@127.0.0.1:%s/api/v2" % (KEY, port), "the key"),
                       ("http://u:%s@127.0.0.1:%s/api/v2" % (other, port), "another secret"),
                       ("http://127.0.0.1:%s/api/v2?token=%s" % (port, other), "a query secret")):
        r = run(emu, "branches", "list", host=host)
        tap(r.rc == 2 and KEY not in r.err and other not in r.err and len(r.lines) == 1,
            "credentials in --api-host (%s) are not printed" % what, r)

    # the loopback check takes canonical forms only
    for host in ("4294967423.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1"):
        r = run(emu, "branches", "list", host="http://%s:%s/api/v2" % (host, port), timeout=30)
        tap(r.rc == 2 and len(r.lines) == 1, "plain http to %s is not loopback: exit 2" % host, r)

    # names from the API cannot drive the terminal or forge lines
    evil = "evil\x1b[31m\nneonflow: forged line\x07\u009b2J\u202e"
    api(emu, "POST", "/projects/%s/branches" % PROJECT, {"branch": {"name": evil}})
    r = run(emu, "branches", "list")
    tap(r.rc == 0 and "\x1b" not in r.out and "\x07" not in r.out and "\u009b" not in r.out
        and "\u202e" not in r.out and not any(l.startswith("neonflow: forged") for l in r.out.splitlines())
        and "evil\\x1b[31m\\nneonflow: forged line\\x07\\u009b2J\\u202e" in r.out,
        "branches list escapes control characters in names", repr(r.out[-800:]))
    r = run(emu, "branches", "list", "--json")
    names = [b["name"] for b in (r.json() or [])]
    tap(r.rc == 0 and evil in names and "\x1b" not in r.out, "branches list --json: valid JSON, the name intact", r)
    r = run(emu, "snapshots", "create", "--branch", "nope\x1b[2J\nneonflow: forged")
    tap(r.rc == 1 and len(r.lines) == 1 and "\x1b" not in r.err and "nope\\x1b[2J\\nneonflow: forged" in r.err,
        "an echoed name in an error is escaped (one line)", repr(r.err))
    r = run(emu, "promote", "--yes", "--source", "dev\x1b]0;pwned\x07")
    tap(r.rc == 1 and "\x1b" not in r.err + r.out and "\x07" not in r.err + r.out and r.one_error_line(),
        "a workflow error echoing a name is escaped", repr(r.err))
    emu.stop()

    # --timeout: the library's deadline wins, every time (it raced a cancel before)
    slow = Emulator("--op-duration-ms", "6000")
    names = []
    for i in range(10):
        r = run(slow, "setup", "--dev-name", "t%d" % i, "--timeout", "1", "--json", timeout=60)
        names.append(((r.json() or {}).get("result_name"), r.rc))
    tap(all(n == ("NEONFLOW_ETIMEOUT", 4) for n in names), "setup --timeout 1, 10 times: always ETIMEOUT, exit 4",
        names)
    slow.stop()


# ---------------------------------------------------------------------------
def group_fields():
    """Neon drops fields: calls keep working; what is unknown is never pruned."""
    emu = Emulator()
    deprecated = ["pooler_enabled", "pooler_mode", "proxy_host", "cpu_used_sec", "primary"]
    emu.ctl("PUT", "omit_fields", {"project_id": PROJECT, "fields": deprecated})
    prod = branches(emu).get("production")
    tap(prod is not None and prod["endpoints"] and prod["default"] is True,
        "branches list works without Neon's deprecated fields", prod)
    r = run(emu, "setup", "--json")
    tap(r.rc == 0, "setup works without the deprecated fields", r)
    r = run(emu, "promote", "--yes", "--json")
    rep = r.json() or {}
    backup = rep.get("backup_branch_name")
    tap(r.rc == 0 and rep.get("result") == 0 and prod and rep.get("target_branch_id") not in (None, "", prod["id"])
        and backup in branches(emu), "promote works without the deprecated fields", r)

    emu.ctl("PUT", "omit_fields", {"project_id": PROJECT, "fields": deprecated + ["default", "protected"]})
    b = branches(emu)
    tap(b.get("production", {}).get("default", False) is None and b.get("production", {}).get("protected", False)
        is None, "branches list --json: default/protected Neon did not send are null, not false", b)
    prune = ["backups", "prune", "--keep", "0", "--older-than", "0s", "--branches-only", "--yes", "--json"]
    r = run(emu, *prune)
    tap(r.rc == 0 and backup in branches(emu), "prune keeps a backup whose default/protected is unknown", r)
    emu.ctl("PUT", "omit_fields", {"project_id": PROJECT, "fields": deprecated})
    r = run(emu, *prune)
    tap(r.rc == 0 and backup not in branches(emu), "and deletes it once Neon says it is neither", r)
    emu.stop()


# ---------------------------------------------------------------------------
