#!/usr/bin/env python3
"""POSIX conformance steps, run the same way on any directory so two runs can be compared.

usage: posix_conformance.py DIR

Runs a fixed sequence of system calls inside DIR (which must be empty and owned by root) and
prints one JSON record per step: the step number, its label, the operation and arguments, who
made it (root, or an unprivileged uid with supplementary groups, in a forked child), the
outcome (ok or the errno name), a value where the call returns one, and for each watched path
its st_mode, uid, gid, nlink, size (not for directories, whose size is file-system specific) and
whether atime, mtime and ctime changed across the call ("changed"/"same"; "new" for a path the
call created, "absent" for none). Nothing in a record depends on the clock, inode numbers or
the file system's name, so the runs on ext4 and on RadonFS compare line by line.

Run as root. Every stat is a fresh lstat by path; the caller mounts RadonFS with zero
attribute and entry timeouts so no kernel cache answers in place of the file system.
"""
import ctypes
import errno
import json
import mmap
import os
import stat
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2

# uid, gid, supplementary groups of each actor.
USERS = {
    "root": (0, 0, []),
    "u1001": (1001, 1001, [2001]),
    "u1002": (1002, 1002, [2002]),
    "u1003": (1003, 1003, [2001, 3001]),
}


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def check(result):
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def utimensat(path, atime, mtime, follow=True):
    """atime/mtime: (seconds, nanoseconds), or UTIME_NOW / UTIME_OMIT."""
    def spec(value):
        return Timespec(0, value) if isinstance(value, int) else Timespec(*value)
    times = (Timespec * 2)(spec(atime), spec(mtime))
    check(libc.utimensat(AT_FDCWD, os.fsencode(path), times, 0 if follow else 0x100))


def renameat2(old, new, flags):
    check(libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags))


def printable(name):
    """A name as text: bytes that are not UTF-8 as \\xNN."""
    return name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name


def snapshot(path):
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    return status


def describe(before, after):
    if after is None:
        return "absent"
    record = {
        "mode": oct(after.st_mode),
        "uid": after.st_uid,
        "gid": after.st_gid,
        "nlink": after.st_nlink,
    }
    if not stat.S_ISDIR(after.st_mode):
        record["size"] = after.st_size
    for field in ("atime", "mtime", "ctime"):
        if before is None or before.st_ino != after.st_ino:
            record[field] = "new"
        else:
            changed = getattr(before, f"st_{field}_ns") != getattr(after, f"st_{field}_ns")
            record[field] = "changed" if changed else "same"
    return record


def outcome(body):
    try:
        value = body()
        result = {"outcome": "ok"}
        if value is not None:
            result["value"] = value
        return result
    except OSError as error:
        return {"outcome": errno.errorcode.get(error.errno, str(error.errno))}


def as_user(who, body):
    """Runs `body` as `who`; unprivileged users in a forked child with exactly their groups."""
    if who == "root":
        return outcome(body)
    uid, gid, groups = USERS[who]
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        try:
            os.setgroups(groups)
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            result = outcome(body)
        except BaseException as error:  # noqa: BLE001 - reported as the step's outcome
            result = {"outcome": f"child failed: {error!r}"}
        os.write(writer, json.dumps(result).encode())
        os._exit(0)
    os.close(writer)
    data = b""
    while chunk := os.read(reader, 65536):
        data += chunk
    os.close(reader)
    os.waitpid(child, 0)
    return json.loads(data)


step_number = 0


def step(label, operation, arguments, body, who="root", watch=()):
    """Stats `watch`, runs `body` as `who`, stats again and prints the record."""
    global step_number
    step_number += 1
    before = [snapshot(path) for path in watch]
    # Longer than the coarse clock's tick (4 ms at HZ=250), so a time set by the call differs.
    time.sleep(0.012)
    result = as_user(who, body)
    record = {"step": step_number, "label": label, "op": operation,
              "args": [printable(a) if isinstance(a, (bytes, str)) else a for a in arguments], "as": who}
    record.update(result)
    record["paths"] = {printable(path): describe(b, snapshot(path)) for path, b in zip(watch, before)}
    print(json.dumps(record, sort_keys=True), flush=True)


# Operations, each a function returning a step body.

def op_mkdir(path, mode):
    return lambda: os.mkdir(path, mode)


def op_open(path, flags, mode=0o644, data=None):
    def body():
        descriptor = os.open(path, flags, mode)
        try:
            if data is not None:
                os.write(descriptor, data)
        finally:
            os.close(descriptor)
    return body


def op_read(path):
    def body():
        with open(path, "rb") as file:
            return file.read().decode("latin-1")
    return body


def op_listdir(path):
    return lambda: sorted(printable(name) for name in os.listdir(os.fsencode(path)))


def op_truncate(path, size):
    return lambda: os.truncate(path, size)


def op_ftruncate(path, size, flags=os.O_RDWR):
    def body():
        descriptor = os.open(path, flags)
        try:
            os.ftruncate(descriptor, size)
        finally:
            os.close(descriptor)
    return body


def op_xattr(path, name, value, flags=0, follow=True):
    return lambda: os.setxattr(path, name, value, flags, follow_symlinks=follow)


def op_getxattr(path, name):
    return lambda: os.getxattr(path, name).decode("latin-1")


def run(directory):
    os.chdir(directory)
    os.umask(0o022)
    os.chmod(".", 0o755)
    R, W, RW = os.O_RDONLY, os.O_WRONLY, os.O_RDWR
    C, X, T, A = os.O_CREAT, os.O_EXCL, os.O_TRUNC, os.O_APPEND

    # ---- files, directories and opens, as root -----------------------------------------
    step("mkdir", "mkdir", ["a", "0755"], op_mkdir("a", 0o755), watch=["a", "."])
    step("mkdir over an existing name", "mkdir", ["a", "0755"], op_mkdir("a", 0o755), watch=["a", "."])
    step("mkdir in a missing parent", "mkdir", ["no/a"], op_mkdir("no/a", 0o755), watch=["."])
    step("create", "open", ["a/f", "O_CREAT|O_WRONLY", "0644"], op_open("a/f", C | W), watch=["a/f", "a"])
    step("O_EXCL on an existing file", "open", ["a/f", "O_CREAT|O_EXCL"], op_open("a/f", C | X | W), watch=["a/f", "a"])
    step("O_CREAT on an existing file", "open", ["a/f", "O_CREAT|O_WRONLY"], op_open("a/f", C | W, 0o600), watch=["a/f", "a"])
    step("write", "open+write", ["a/f", "O_WRONLY", "hello world"], op_open("a/f", W, data=b"hello world"), watch=["a/f", "a"])
    step("append", "open+write", ["a/f", "O_WRONLY|O_APPEND", "!"], op_open("a/f", W | A, data=b"!"), watch=["a/f"])
    step("read", "read", ["a/f"], op_read("a/f"), watch=["a/f"])
    step("O_TRUNC", "open", ["a/f", "O_WRONLY|O_TRUNC"], op_open("a/f", W | T), watch=["a/f", "a"])
    step("O_TRUNC of an empty file", "open", ["a/f", "O_WRONLY|O_TRUNC"], op_open("a/f", W | T), watch=["a/f"])
    step("refill", "open+write", ["a/f", "O_WRONLY", "0123456789"], op_open("a/f", W, data=b"0123456789"), watch=["a/f"])
    step("create in a missing parent", "open", ["a/no/x", "O_CREAT"], op_open("a/no/x", C | W), watch=["a"])
    step("create under a file", "open", ["a/f/x", "O_CREAT"], op_open("a/f/x", C | W), watch=["a/f"])
    step("open a directory for writing", "open", ["a", "O_WRONLY"], op_open("a", W), watch=["a"])
    step("O_CREAT on a directory", "open", ["a", "O_CREAT|O_RDONLY"], op_open("a", C | R), watch=["a"])
    step("open a directory", "open", ["a", "O_RDONLY|O_DIRECTORY"], op_open("a", R | os.O_DIRECTORY), watch=["a"])
    step("O_DIRECTORY on a file", "open", ["a/f", "O_DIRECTORY"], op_open("a/f", R | os.O_DIRECTORY), watch=["a/f"])
    step("open a missing file", "open", ["a/none", "O_RDONLY"], op_open("a/none", R), watch=["a"])
    step("list", "listdir", ["a"], op_listdir("a"), watch=["a"])

    # ---- chmod, chown, lchown ---------------------------------------------------------------
    step("chmod", "chmod", ["a/f", "0600"], lambda: os.chmod("a/f", 0o600), watch=["a/f", "a"])
    step("chmod to the same mode", "chmod", ["a/f", "0600"], lambda: os.chmod("a/f", 0o600), watch=["a/f"])
    step("chmod setuid", "chmod", ["a/f", "04755"], lambda: os.chmod("a/f", 0o4755), watch=["a/f"])
    step("chown", "chown", ["a/f", 1001, 1001], lambda: os.chown("a/f", 1001, 1001), watch=["a/f", "a"])
    step("chown to the same owner", "chown", ["a/f", 1001, 1001], lambda: os.chown("a/f", 1001, 1001), watch=["a/f"])
    step("chown -1 -1", "chown", ["a/f", -1, -1], lambda: os.chown("a/f", -1, -1), watch=["a/f"])
    step("chown back", "chown", ["a/f", 0, 0], lambda: os.chown("a/f", 0, 0), watch=["a/f"])

    # ---- symlinks, links, special files ---------------------------------------------------
    step("symlink", "symlink", ["f", "a/s"], lambda: os.symlink("f", "a/s"), watch=["a/s", "a"])
    step("symlink over a name", "symlink", ["f", "a/s"], lambda: os.symlink("f", "a/s"), watch=["a/s", "a"])
    step("readlink", "readlink", ["a/s"], lambda: os.readlink("a/s"), watch=["a/s"])
    step("lchown", "lchown", ["a/s", 1002, 1002], lambda: os.lchown("a/s", 1002, 1002), watch=["a/s", "a/f"])
    step("chown through a symlink", "chown", ["a/s", 1003, -1], lambda: os.chown("a/s", 1003, -1), watch=["a/s", "a/f"])
    step("chown back", "chown", ["a/f", 0, 0], lambda: os.chown("a/f", 0, 0), watch=["a/f"])
    step("link", "link", ["a/f", "a/g"], lambda: os.link("a/f", "a/g"), watch=["a/f", "a/g", "a"])
    step("link over a name", "link", ["a/f", "a/g"], lambda: os.link("a/f", "a/g"), watch=["a/f", "a"])
    step("link a directory", "link", ["a", "dl"], lambda: os.link("a", "dl"), watch=["a", "."])
    step("link a missing file", "link", ["a/none", "a/x"], lambda: os.link("a/none", "a/x"), watch=["a"])
    step("mkfifo", "mkfifo", ["a/p", "0640"], lambda: os.mkfifo("a/p", 0o640), watch=["a/p", "a"])
    step("mkfifo over a name", "mkfifo", ["a/p"], lambda: os.mkfifo("a/p", 0o640), watch=["a/p"])
    step("mknod fifo", "mknod", ["a/p2", "S_IFIFO|0600"], lambda: os.mknod("a/p2", stat.S_IFIFO | 0o600), watch=["a/p2", "a"])
    step("mknod char device", "mknod", ["a/c", "S_IFCHR|0600", "1,3"],
         lambda: os.mknod("a/c", stat.S_IFCHR | 0o600, os.makedev(1, 3)), watch=["a/c", "a"])
    step("mknod regular", "mknod", ["a/r", "S_IFREG|0644"], lambda: os.mknod("a/r", stat.S_IFREG | 0o644), watch=["a/r", "a"])

    # ---- truncate, ftruncate -------------------------------------------------------------------
    step("truncate longer", "truncate", ["a/f", 100], op_truncate("a/f", 100), watch=["a/f"])
    step("truncate to the same size", "truncate", ["a/f", 100], op_truncate("a/f", 100), watch=["a/f"])
    step("truncate shorter", "truncate", ["a/f", 4], op_truncate("a/f", 4), watch=["a/f"])
    step("read after truncate", "read", ["a/f"], op_read("a/f"), watch=[])
    step("ftruncate", "ftruncate", ["a/f", 50], op_ftruncate("a/f", 50), watch=["a/f"])
    step("ftruncate to the same size", "ftruncate", ["a/f", 50], op_ftruncate("a/f", 50), watch=["a/f"])
    step("ftruncate of a read-only descriptor", "ftruncate", ["a/f", 5, "O_RDONLY"], op_ftruncate("a/f", 5, R), watch=["a/f"])
    step("truncate a directory", "truncate", ["a", 0], op_truncate("a", 0), watch=["a"])

    # ---- utimensat -----------------------------------------------------------------------------
    step("utimensat explicit", "utimensat", ["a/f", "1000000000.5", "2000000000.25"],
         lambda: utimensat("a/f", (1000000000, 500000000), (2000000000, 250000000)), watch=["a/f"])
    step("stat explicit times", "stat", ["a/f"],
         lambda: [os.stat("a/f").st_atime_ns, os.stat("a/f").st_mtime_ns], watch=[])
    step("utimensat NOW NOW", "utimensat", ["a/f", "NOW", "NOW"], lambda: utimensat("a/f", UTIME_NOW, UTIME_NOW), watch=["a/f"])
    step("utimensat OMIT NOW", "utimensat", ["a/f", "OMIT", "NOW"], lambda: utimensat("a/f", UTIME_OMIT, UTIME_NOW), watch=["a/f"])
    step("utimensat NOW OMIT", "utimensat", ["a/f", "NOW", "OMIT"], lambda: utimensat("a/f", UTIME_NOW, UTIME_OMIT), watch=["a/f"])
    step("utimensat OMIT OMIT", "utimensat", ["a/f", "OMIT", "OMIT"], lambda: utimensat("a/f", UTIME_OMIT, UTIME_OMIT), watch=["a/f"])
    step("utimensat explicit OMIT", "utimensat", ["a/f", "5.0", "OMIT"], lambda: utimensat("a/f", (5, 0), UTIME_OMIT), watch=["a/f"])
    step("utimensat on a symlink itself", "utimensat", ["a/s", "7.0", "8.0", "AT_SYMLINK_NOFOLLOW"],
         lambda: utimensat("a/s", (7, 0), (8, 0), follow=False), watch=["a/s", "a/f"])

    # ---- extended attributes -------------------------------------------------------------------
    step("setxattr", "setxattr", ["a/f", "user.k", "v1"], op_xattr("a/f", "user.k", b"v1"), watch=["a/f"])
    step("getxattr", "getxattr", ["a/f", "user.k"], op_getxattr("a/f", "user.k"), watch=[])
    step("setxattr CREATE over existing", "setxattr", ["a/f", "user.k", "XATTR_CREATE"],
         op_xattr("a/f", "user.k", b"v2", os.XATTR_CREATE), watch=["a/f"])
    step("setxattr REPLACE of missing", "setxattr", ["a/f", "user.none", "XATTR_REPLACE"],
         op_xattr("a/f", "user.none", b"v2", os.XATTR_REPLACE), watch=["a/f"])
    step("setxattr REPLACE", "setxattr", ["a/f", "user.k", "XATTR_REPLACE"],
         op_xattr("a/f", "user.k", b"v3", os.XATTR_REPLACE), watch=["a/f"])
    step("setxattr CREATE", "setxattr", ["a/f", "user.n", "XATTR_CREATE"],
         op_xattr("a/f", "user.n", b"", os.XATTR_CREATE), watch=["a/f"])
    step("listxattr", "listxattr", ["a/f"], lambda: sorted(os.listxattr("a/f")), watch=[])
    step("removexattr", "removexattr", ["a/f", "user.n"], lambda: os.removexattr("a/f", "user.n"), watch=["a/f"])
    step("removexattr of missing", "removexattr", ["a/f", "user.n"], lambda: os.removexattr("a/f", "user.n"), watch=["a/f"])
    step("setxattr user.* on a fifo", "setxattr", ["a/p", "user.k"], op_xattr("a/p", "user.k", b"v"), watch=["a/p"])
    step("setxattr user.* on a symlink", "lsetxattr", ["a/s", "user.k"], op_xattr("a/s", "user.k", b"v", follow=False), watch=["a/s"])
    step("setxattr on a directory", "setxattr", ["a", "user.k"], op_xattr("a", "user.k", b"v"), watch=["a"])

    # ---- rename ---------------------------------------------------------------------------------
    step("rename", "rename", ["a/g", "a/h"], lambda: os.rename("a/g", "a/h"), watch=["a/g", "a/h", "a/f", "a"])
    step("mkdir d1", "mkdir", ["a/d1"], op_mkdir("a/d1", 0o755), watch=["a/d1", "a"])
    step("mkdir d2", "mkdir", ["a/d2"], op_mkdir("a/d2", 0o755), watch=["a/d2", "a"])
    step("create d2/x", "open", ["a/d2/x", "O_CREAT"], op_open("a/d2/x", C | W), watch=["a/d2/x", "a/d2"])
    step("rename over a non-empty directory", "rename", ["a/d1", "a/d2"], lambda: os.rename("a/d1", "a/d2"), watch=["a/d1", "a/d2", "a"])
    step("rename a directory over a file", "rename", ["a/d1", "a/f"], lambda: os.rename("a/d1", "a/f"), watch=["a/d1", "a/f"])
    step("rename a file over a directory", "rename", ["a/h", "a/d1"], lambda: os.rename("a/h", "a/d1"), watch=["a/h", "a/d1"])
    step("mkdir d1/sub", "mkdir", ["a/d1/sub"], op_mkdir("a/d1/sub", 0o755), watch=["a/d1/sub", "a/d1"])
    step("rename a directory into its own subtree", "rename", ["a/d1", "a/d1/sub/in"],
         lambda: os.rename("a/d1", "a/d1/sub/in"), watch=["a/d1", "a/d1/sub"])
    step("mkdir b", "mkdir", ["b"], op_mkdir("b", 0o755), watch=["b", "."])
    step("rename a directory to another parent", "rename", ["a/d1", "b/d1"], lambda: os.rename("a/d1", "b/d1"),
         watch=["a/d1", "b/d1", "a", "b"])
    step("rename a directory over an empty directory", "rename", ["b/d1/sub", "a/d2"],
         lambda: (os.unlink("a/d2/x"), os.rename("b/d1/sub", "a/d2"))[1], watch=["b/d1", "a/d2", "a"])
    step("rename between two names of one inode", "rename", ["a/f", "a/h"], lambda: os.rename("a/f", "a/h"),
         watch=["a/f", "a/h", "a"])
    step("create v", "open", ["a/v", "O_CREAT"], op_open("a/v", C | W, data=b"v"), watch=["a/v"])
    step("rename over a file", "rename", ["a/v", "a/h"], lambda: os.rename("a/v", "a/h"), watch=["a/v", "a/h", "a/f", "a"])
    step("rename NOREPLACE over a file", "renameat2", ["a/f", "a/h", "RENAME_NOREPLACE"],
         lambda: renameat2("a/f", "a/h", RENAME_NOREPLACE), watch=["a/f", "a/h"])
    step("rename NOREPLACE", "renameat2", ["a/f", "a/k", "RENAME_NOREPLACE"],
         lambda: renameat2("a/f", "a/k", RENAME_NOREPLACE), watch=["a/f", "a/k", "a"])
    step("rename EXCHANGE file and directory", "renameat2", ["a/k", "b/d1", "RENAME_EXCHANGE"],
         lambda: renameat2("a/k", "b/d1", RENAME_EXCHANGE), watch=["a/k", "b/d1", "a", "b"])
    step("rename EXCHANGE with a missing name", "renameat2", ["a/k", "a/none", "RENAME_EXCHANGE"],
         lambda: renameat2("a/k", "a/none", RENAME_EXCHANGE), watch=["a/k"])
    step("rename a missing name", "rename", ["a/none", "a/z"], lambda: os.rename("a/none", "a/z"), watch=["a"])

    # ---- unlink, rmdir --------------------------------------------------------------------------
    step("link for unlink", "link", ["a/h", "a/h2"], lambda: os.link("a/h", "a/h2"), watch=["a/h", "a"])
    step("unlink one of two links", "unlink", ["a/h2"], lambda: os.unlink("a/h2"), watch=["a/h2", "a/h", "a"])
    step("unlink a missing name", "unlink", ["a/none"], lambda: os.unlink("a/none"), watch=["a"])
    step("unlink a directory", "unlink", ["b"], lambda: os.unlink("b"), watch=["b", "."])
    step("unlink a fifo", "unlink", ["a/p2"], lambda: os.unlink("a/p2"), watch=["a/p2", "a"])
    step("unlink a symlink", "unlink", ["a/s"], lambda: os.unlink("a/s"), watch=["a/s", "a"])
    step("rmdir a non-empty directory", "rmdir", ["a"], lambda: os.rmdir("a"), watch=["a", "."])
    step("rmdir a file", "rmdir", ["a/h"], lambda: os.rmdir("a/h"), watch=["a/h"])
    step("rmdir .", "rmdir", ["a/d2/."], lambda: os.rmdir("a/d2/."), watch=["a/d2"])
    step("rmdir", "rmdir", ["a/d2"], lambda: os.rmdir("a/d2"), watch=["a/d2", "a"])
    step("rmdir a missing directory", "rmdir", ["a/d2"], lambda: os.rmdir("a/d2"), watch=["a"])

    # ---- permissions: plain, sticky, setgid, supplementary groups ---------------------------------
    step("mkdir p", "mkdir", ["p", "0755"], op_mkdir("p", 0o755), watch=["p"])
    step("create without write on the directory", "open", ["p/x", "O_CREAT"], op_open("p/x", C | W), who="u1001", watch=["p/x", "p"])
    step("mkdir without write on the directory", "mkdir", ["p/y"], op_mkdir("p/y", 0o755), who="u1001", watch=["p/y", "p"])
    step("list without write", "listdir", ["p"], op_listdir("p"), who="u1001", watch=["p"])
    step("private file", "open", ["p/secret", "O_CREAT", "0600"], op_open("p/secret", C | W, 0o600, b"s"), watch=["p/secret"])
    step("read without permission", "read", ["p/secret"], op_read("p/secret"), who="u1001", watch=["p/secret"])
    step("write without permission", "open+write", ["p/secret", "O_WRONLY"], op_open("p/secret", W, data=b"x"), who="u1001", watch=["p/secret"])
    step("mkdir t", "mkdir", ["t", "01777"], lambda: (os.mkdir("t"), os.chmod("t", 0o1777))[1], watch=["t"])
    step("create in a sticky directory", "open", ["t/a", "O_CREAT"], op_open("t/a", C | W), who="u1001", watch=["t/a", "t"])
    step("unlink another user's file in a sticky directory", "unlink", ["t/a"], lambda: os.unlink("t/a"), who="u1002", watch=["t/a", "t"])
    step("rename another user's file in a sticky directory", "rename", ["t/a", "t/b"], lambda: os.rename("t/a", "t/b"),
         who="u1002", watch=["t/a", "t/b"])
    step("rename over another user's file in a sticky directory", "rename", ["t/c", "t/a"],
         lambda: (op_open("t/c", C | W)(), os.rename("t/c", "t/a"))[1], who="u1002", watch=["t/a", "t/c"])
    step("unlink own file in a sticky directory", "unlink", ["t/a"], lambda: os.unlink("t/a"), who="u1001", watch=["t/a", "t"])
    step("mkdir sg", "mkdir", ["sg", "02777", "gid 3000"],
         lambda: (os.mkdir("sg"), os.chown("sg", 0, 3000), os.chmod("sg", 0o2777))[2], watch=["sg"])
    step("create in a setgid directory", "open", ["sg/f", "O_CREAT"], op_open("sg/f", C | W, 0o2755), who="u1001", watch=["sg/f"])
    step("mkdir in a setgid directory", "mkdir", ["sg/d"], op_mkdir("sg/d", 0o755), who="u1001", watch=["sg/d"])
    step("mkdir sup", "mkdir", ["sup", "0770", "gid 2001"],
         lambda: (os.mkdir("sup"), os.chown("sup", 0, 2001), os.chmod("sup", 0o770))[2], watch=["sup"])
    step("create through a supplementary group", "open", ["sup/f", "O_CREAT"], op_open("sup/f", C | W), who="u1003", watch=["sup/f", "sup"])
    step("mkdir through a supplementary group", "mkdir", ["sup/d"], op_mkdir("sup/d", 0o755), who="u1003", watch=["sup/d", "sup"])
    step("create without the group", "open", ["sup/g", "O_CREAT"], op_open("sup/g", C | W), who="u1002", watch=["sup/g", "sup"])
    step("unlink through a supplementary group", "unlink", ["sup/f"], lambda: os.unlink("sup/f"), who="u1001", watch=["sup/f", "sup"])

    # ---- chown and chmod by users ----------------------------------------------------------------
    step("mkdir o", "mkdir", ["o", "0777"], lambda: (os.mkdir("o"), os.chmod("o", 0o777))[1], watch=["o"])
    step("file of u1001", "open", ["o/f"], lambda: (op_open("o/f", C | W)(), os.chown("o/f", 1001, 1001))[1], watch=["o/f"])
    step("chown to a supplementary group", "chown", ["o/f", -1, 2001], lambda: os.chown("o/f", -1, 2001), who="u1001", watch=["o/f"])
    step("chown to a group not one's own", "chown", ["o/f", -1, 2002], lambda: os.chown("o/f", -1, 2002), who="u1001", watch=["o/f"])
    step("chown to another owner", "chown", ["o/f", 1002, -1], lambda: os.chown("o/f", 1002, -1), who="u1001", watch=["o/f"])
    step("chown to oneself", "chown", ["o/f", 1001, -1], lambda: os.chown("o/f", 1001, -1), who="u1001", watch=["o/f"])
    step("chown by a non-owner", "chown", ["o/f", -1, 1002], lambda: os.chown("o/f", -1, 1002), who="u1002", watch=["o/f"])
    step("chown -1 -1 by a non-owner", "chown", ["o/f", -1, -1], lambda: os.chown("o/f", -1, -1), who="u1002", watch=["o/f"])
    step("chmod by a non-owner", "chmod", ["o/f", "0666"], lambda: os.chmod("o/f", 0o666), who="u1002", watch=["o/f"])
    step("chmod setgid as a member", "chmod", ["o/f", "02644"], lambda: os.chmod("o/f", 0o2644), who="u1001", watch=["o/f"])
    step("give o/f to group 3000", "chown", ["o/f", 1001, 3000], lambda: os.chown("o/f", 1001, 3000), watch=["o/f"])
    step("chmod setgid as a non-member", "chmod", ["o/f", "02644"], lambda: os.chmod("o/f", 0o2644), who="u1001", watch=["o/f"])
    step("world-writable file", "open", ["o/w", "O_CREAT", "0666"],
         lambda: (op_open("o/w", C | W)(), os.chmod("o/w", 0o666))[1], watch=["o/w"])
    step("utimensat NOW by a writer", "utimensat", ["o/w", "NOW", "NOW"], lambda: utimensat("o/w", UTIME_NOW, UTIME_NOW), who="u1002", watch=["o/w"])
    step("utimensat OMIT NOW by a writer", "utimensat", ["o/w", "OMIT", "NOW"], lambda: utimensat("o/w", UTIME_OMIT, UTIME_NOW), who="u1002", watch=["o/w"])
    step("utimensat explicit by a writer", "utimensat", ["o/w", "5.0", "5.0"], lambda: utimensat("o/w", (5, 0), (5, 0)), who="u1002", watch=["o/w"])
    step("utimensat NOW by a non-writer", "utimensat", ["o/f", "NOW", "NOW"], lambda: utimensat("o/f", UTIME_NOW, UTIME_NOW), who="u1002", watch=["o/f"])
    step("utimensat explicit by the owner", "utimensat", ["o/f", "5.0", "6.0"], lambda: utimensat("o/f", (5, 0), (6, 0)), who="u1001", watch=["o/f"])
    step("setxattr by a writer", "setxattr", ["o/w", "user.k"], op_xattr("o/w", "user.k", b"w"), who="u1002", watch=["o/w"])
    step("setxattr by a non-writer", "setxattr", ["o/f", "user.k"], op_xattr("o/f", "user.k", b"w"), who="u1002", watch=["o/f"])
    step("setxattr by the owner", "setxattr", ["o/f", "user.k"], op_xattr("o/f", "user.k", b"o"), who="u1001", watch=["o/f"])
    step("truncate by a writer", "truncate", ["o/w", 3], op_truncate("o/w", 3), who="u1002", watch=["o/w"])
    step("truncate by a non-writer", "truncate", ["o/f", 3], op_truncate("o/f", 3), who="u1002", watch=["o/f"])

    # ---- setuid and setgid cleared on write, truncate and chown ------------------------------------
    def special(path, mode, owner=(0, 0)):
        def body():
            op_open(path, C | W, 0o644, b"data")()
            os.chown(path, *owner)
            os.chmod(path, mode)
        return body
    step("mkdir k", "mkdir", ["k", "0777"], lambda: (os.mkdir("k"), os.chmod("k", 0o777))[1], watch=["k"])
    step("setuid file", "create", ["k/s1", "06777"], special("k/s1", 0o6777), watch=["k/s1"])
    step("write by a non-owner clears setuid and setgid", "open+write", ["k/s1"], op_open("k/s1", W | A, data=b"x"), who="u1002", watch=["k/s1"])
    step("setgid file without group execute", "create", ["k/s2", "02666"], special("k/s2", 0o2666), watch=["k/s2"])
    step("write by a non-member to a setgid file without group execute", "open+write", ["k/s2"], op_open("k/s2", W | A, data=b"x"), who="u1002", watch=["k/s2"])
    step("setuid file to truncate", "create", ["k/s3", "06777"], special("k/s3", 0o6777), watch=["k/s3"])
    step("truncate by a non-owner clears setuid", "truncate", ["k/s3", 1], op_truncate("k/s3", 1), who="u1002", watch=["k/s3"])
    step("setuid file of u1001", "create", ["k/s4", "06755"], special("k/s4", 0o6755, (1001, 1001)), watch=["k/s4"])
    step("write by the owner clears setuid", "open+write", ["k/s4"], op_open("k/s4", W | A, data=b"x"), who="u1001", watch=["k/s4"])
    step("setuid file written by root", "create", ["k/s5", "06755"], special("k/s5", 0o6755, (1001, 1001)), watch=["k/s5"])
    step("write by root keeps setuid", "open+write", ["k/s5"], op_open("k/s5", W | A, data=b"x"), watch=["k/s5"])
    step("chown by root clears setuid", "chown", ["k/s5", 1002, -1], lambda: os.chown("k/s5", 1002, -1), watch=["k/s5"])
    step("setuid file for chown -1 -1", "create", ["k/s6", "06755"], special("k/s6", 0o6755), watch=["k/s6"])
    step("chown -1 -1 by root", "chown", ["k/s6", -1, -1], lambda: os.chown("k/s6", -1, -1), watch=["k/s6"])
    step("setuid file of u1001 for chgrp", "create", ["k/s7", "06755"], special("k/s7", 0o6755, (1001, 1001)), watch=["k/s7"])
    step("chgrp by the owner clears setuid", "chown", ["k/s7", -1, 2001], lambda: os.chown("k/s7", -1, 2001), who="u1001", watch=["k/s7"])
    step("setuid directory", "mkdir", ["k/sd", "06777"], lambda: (os.mkdir("k/sd"), os.chmod("k/sd", 0o6777))[1], watch=["k/sd"])
    step("chown of a directory keeps its mode", "chown", ["k/sd", 1001, 1001], lambda: os.chown("k/sd", 1001, 1001), watch=["k/sd"])

    # ---- descriptors keep the access they were opened with ---------------------------------------
    def ftruncate_mode_zero():
        descriptor = os.open("k/m0", C | RW, 0)
        try:
            os.ftruncate(descriptor, 10)
            os.pwrite(descriptor, b"abc", 0)
            os.ftruncate(descriptor, 2)
            return os.pread(descriptor, 16, 0).decode("latin-1")
        finally:
            os.close(descriptor)
    step("ftruncate of a mode 0 file opened O_CREAT|O_RDWR", "open+ftruncate", ["k/m0", "0"], ftruncate_mode_zero, who="u1001", watch=["k/m0"])
    step("truncate of the mode 0 file by path", "truncate", ["k/m0", 0], op_truncate("k/m0", 0), who="u1001", watch=["k/m0"])

    # ---- mmap --------------------------------------------------------------------------------------
    def mmap_shared():
        with open("a/mm", "w+b") as file:
            file.write(b"." * 8192)
            file.flush()
            mapping = mmap.mmap(file.fileno(), 8192, mmap.MAP_SHARED)
            mapping[100:105] = b"MMAP!"
            mapping[5000:5003] = b"two"
            seen = os.pread(file.fileno(), 10, 98).decode()
            mapping.flush()
            mapping.close()
        with open("a/mm", "rb") as file:
            data = file.read()
        return [seen, data[98:108].decode(), data[4999:5004].decode(), len(data)]
    step("mmap MAP_SHARED write seen by read and after close", "mmap", ["a/mm"], mmap_shared, watch=["a/mm"])

    # ---- names are bytes ---------------------------------------------------------------------------
    step("mkdir n", "mkdir", ["n"], op_mkdir("n", 0o755), watch=["n"])
    step("create a name that is not UTF-8", "open", [b"n/bad\xffone", "O_CREAT"], op_open(b"n/bad\xffone", C | W, 0o644, b"1"), watch=[b"n/bad\xffone", "n"])
    step("create a second such name", "open", [b"n/bad\xfeone", "O_CREAT"], op_open(b"n/bad\xfeone", C | W, 0o644, b"22"), watch=[b"n/bad\xfeone"])
    step("mkdir a name that is not UTF-8", "mkdir", [b"n/\x80\x81"], op_mkdir(b"n/\x80\x81", 0o755), watch=[b"n/\x80\x81", "n"])
    step("control characters in a name", "open", [b"n/tab\tnl\nesc\x1b", "O_CREAT"], op_open(b"n/tab\tnl\nesc\x1b", C | W), watch=[b"n/tab\tnl\nesc\x1b"])
    step("list names that are not UTF-8", "listdir", ["n"], op_listdir("n"), watch=["n"])
    step("read a name that is not UTF-8", "read", [b"n/bad\xfeone"], op_read(b"n/bad\xfeone"), watch=[])
    step("rename names that are not UTF-8", "rename", [b"n/bad\xffone", b"n/\x80\x81/\xc3\x28"],
         lambda: os.rename(b"n/bad\xffone", b"n/\x80\x81/\xc3\x28"), watch=[b"n/bad\xffone", b"n/\x80\x81/\xc3\x28", "n"])
    step("symlink to bytes that are not UTF-8", "symlink", [b"to\xff\xfe", b"n/l\xff"],
         lambda: os.symlink(b"to\xff\xfe", b"n/l\xff"), watch=[b"n/l\xff"])
    step("readlink of bytes that are not UTF-8", "readlink", [b"n/l\xff"], lambda: printable(os.readlink(b"n/l\xff")), watch=[])
    step("unlink names that are not UTF-8", "unlink", [b"n/\x80\x81/\xc3\x28"], lambda: os.unlink(b"n/\x80\x81/\xc3\x28"),
         watch=[b"n/\x80\x81/\xc3\x28", b"n/\x80\x81"])
    step("rmdir a name that is not UTF-8", "rmdir", [b"n/\x80\x81"], lambda: os.rmdir(b"n/\x80\x81"), watch=[b"n/\x80\x81", "n"])
    name255 = "n/" + "x" * 255
    step("a name of 255 bytes", "open", ["n/x*255", "O_CREAT"], op_open(name255, C | W), watch=[name255])
    step("a name of 256 bytes", "open", ["n/x*256", "O_CREAT"], op_open(name255 + "y", C | W), watch=["n"])
    step("a name of 255 bytes, two bytes each", "mkdir", ["n/é*127+x"], op_mkdir("n/" + "é" * 127 + "x", 0o755), watch=["n/" + "é" * 127 + "x"])
    step("list at the end", "listdir", ["n"], op_listdir("n"), watch=[])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    run(sys.argv[1])
