import Foundation
import Testing

/// Real-tool checks of a mounted file system, shared by the in-memory glue suite and the
/// cluster suite. Each takes the mount point and a scratch directory outside it.
enum MountChecks {
    /// A tree of mixed sizes (empty, 1 byte, block edges, a few MiB of random bytes), nested
    /// directories, a symlink, odd modes and an old mtime, made outside the mount.
    static func makeSourceTree(at source: String) async throws {
        try await Shell.check("make source tree", """
            rm -rf '\(source)'; mkdir -p '\(source)/a/b/c' '\(source)/empty-dir'
            : > '\(source)/empty'
            printf x > '\(source)/one'
            head -c 4095 /dev/urandom > '\(source)/a/4095'
            head -c 4096 /dev/urandom > '\(source)/a/4096'
            head -c 65537 /dev/urandom > '\(source)/a/b/65537'
            head -c 1048583 /dev/urandom > '\(source)/a/b/c/1m-plus-7'
            head -c 5000000 /dev/urandom > '\(source)/big'
            for i in $(seq 1 40); do head -c $((i * 997)) /dev/urandom > "\(source)/a/small-$i"; done
            ln -s a/b/65537 '\(source)/link'
            chmod 640 '\(source)/a/4095'; chmod 755 '\(source)/a/b'
            touch -d '2001-02-03 04:05:06' '\(source)/one'
            """)
    }

    /// `find` listing of type, mode, size and mtime (to the second) of a tree, for comparison.
    static func listing(_ root: String) -> String {
        "(cd '\(root)' && find . -printf '%y %m %s %TY-%Tm-%Td %TT %p\\n' | sed -E 's/\\.[0-9]+ / /; s/^(d [0-7]+) [0-9]+ /\\1 - /' | grep -v '^d .* \\.$' | sort)"
    }

    /// Makes a fresh source tree in `scratch` and runs the tool script made from its path.
    private static func checkOnSourceTree(_ label: String, scratch: String, _ script: (String) -> String) async throws {
        let source = scratch + "/src-" + label.filter(\.isLetter)
        try await makeSourceTree(at: source)
        try await Shell.check(label, script(source))
    }

    static func copyAndDiff(mount: String, scratch: String) async throws {
        try await checkOnSourceTree("cp -a and diff -r", scratch: scratch) { source in """
            cp -a '\(source)' '\(mount)/copy'
            diff -r '\(source)' '\(mount)/copy'
            diff <(\(listing(source))) <(\(listing(mount + "/copy")))
            """ }
    }

    static func tarRoundTrip(mount: String, scratch: String) async throws {
        try await checkOnSourceTree("tar create and extract", scratch: scratch) { source in """
            tar -C '\(source)' -cf '\(mount)/tree.tar' .
            mkdir '\(mount)/untarred'
            tar -C '\(mount)/untarred' -xf '\(mount)/tree.tar'
            diff -r '\(source)' '\(mount)/untarred'
            tar -C '\(mount)/untarred' -cf - . | tar -tvf - > /dev/null
            """ }
    }

    static func rsyncRoundTrip(mount: String, scratch: String) async throws {
        try await checkOnSourceTree("rsync -a", scratch: scratch) { source in """
            rsync -a '\(source)/' '\(mount)/synced/'
            diff -r '\(source)' '\(mount)/synced'
            # A second run finds nothing to do: sizes, times and modes came through.
            changes=$(rsync -a --itemize-changes '\(source)/' '\(mount)/synced/')
            if [ -n "$changes" ]; then echo "second rsync changed: $changes"; exit 1; fi
            rsync -a --checksum '\(mount)/synced/' '\(scratch)/back/'
            diff -r '\(source)' '\(scratch)/back'
            """ }
    }

    static func gitWorkflow(mount: String) async throws {
        try await Shell.check("git init, commit, clone", """
            export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e HOME='\(mount)'
            git init -q -b main '\(mount)/repo'
            cd '\(mount)/repo'
            for i in $(seq 1 30); do echo "line $i" > "file-$i.txt"; done
            mkdir sub && head -c 300000 /dev/urandom > sub/blob.bin
            git add . && git commit -q -m first
            echo change >> file-1.txt && git mv file-2.txt renamed.txt && git commit -qam second
            git gc -q
            git fsck --strict
            git clone -q '\(mount)/repo' '\(mount)/clone'
            cd '\(mount)/clone'
            test "$(git log --oneline | wc -l)" = 2
            git fsck --strict
            diff -r --exclude=.git '\(mount)/repo' '\(mount)/clone'
            """)
    }

    static func sqliteUnderLoad(mount: String) async throws {
        try await Shell.check("sqlite3 write load and integrity_check", """
            db='\(mount)/load.db'
            sqlite3 "$db" 'PRAGMA journal_mode=DELETE; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INTEGER); CREATE INDEX tn ON t(n);' > /dev/null
            for round in $(seq 1 20); do
              { echo 'BEGIN;'
                for i in $(seq 1 100); do echo "INSERT INTO t(v, n) VALUES (hex(randomblob(64)), $round * 1000 + $i);"; done
                echo "UPDATE t SET v = v || 'x' WHERE n % 7 = $((round % 7));"
                echo "DELETE FROM t WHERE n % 13 = $((round % 13)) AND n < $round * 500;"
                echo 'COMMIT;'; } | sqlite3 "$db"
            done
            test "$(sqlite3 "$db" 'PRAGMA integrity_check;')" = ok
            """)
    }

    /// WAL mode with a concurrent reader: several processes share the database's -shm file
    /// through mmap. Runs after `sqliteUnderLoad`, on its database.
    static func sqliteWALWithConcurrentReader(mount: String) async throws {
        try await Shell.check("sqlite3 WAL mode with a concurrent reader and integrity_check", """
            db='\(mount)/load.db'
            # Real applications wait for a lock instead of failing at once; so does this check.
            sqlite() { sqlite3 -cmd '.timeout 10000' "$@"; }
            sqlite "$db" 'PRAGMA journal_mode=WAL;' > /dev/null
            for round in $(seq 1 10); do
              sqlite "$db" "INSERT INTO t(v, n) SELECT v, n + 100000 FROM t WHERE n % 10 = $round % 10;" &
              sqlite "$db" 'SELECT count(*) FROM t;' > /dev/null
              wait
            done
            test "$(sqlite "$db" 'PRAGMA integrity_check;')" = ok
            test "$(sqlite "$db" 'SELECT count(*) > 1500 FROM t;')" = 1
            """)
    }

    /// Files that grow out of the inode (small files live inline) while other processes keep
    /// opening and closing them: each close flushes and sends the first block while the writer
    /// goes on appending. Every record must read back intact (sqlite's WAL is such a file; its
    /// first block was once written over with zeros this way, and the database with them).
    static func growWhileOthersClose(mount: String) async throws {
        try await Shell.check("appending writers while other processes open and close their files", """
            python3 - '\(mount)' <<'PY'
            import os, sys, multiprocessing, zlib, struct
            d = sys.argv[1]; R = 1000; N = 200; files = range(6)
            def record(f, i):
                body = struct.pack("<II", f, i) * ((R - 4) // 8)
                body += bytes(R - 4 - len(body))
                return body + struct.pack("<I", zlib.crc32(body))
            def writer(f):
                fd = os.open(f"{d}/grow-{f}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                for i in range(N): os.write(fd, record(f, i))
                os.close(fd)
            def closer(f, stop):
                while not stop.is_set():
                    try: os.close(os.open(f"{d}/grow-{f}", os.O_RDONLY))
                    except FileNotFoundError: pass
            stop = multiprocessing.Event()
            closers = [multiprocessing.Process(target=closer, args=(f, stop)) for f in files]
            writers = [multiprocessing.Process(target=writer, args=(f,)) for f in files]
            for p in closers + writers: p.start()
            for p in writers: p.join()
            stop.set()
            for p in closers: p.join()
            bad = []
            for f in files:
                data = open(f"{d}/grow-{f}", "rb").read()
                wrong = [i for i in range(N) if data[i*R:(i+1)*R] != record(f, i)]
                if len(data) != N * R or wrong:
                    bad.append(f"grow-{f}: size {len(data)}, wrong records {wrong[:8]}")
                os.unlink(f"{d}/grow-{f}")
            assert not bad, "; ".join(bad)
            PY
            """)
    }

    static func fioVerify(mount: String, size: String = "16M") async throws {
        try await Shell.check("fio sequential and random with crc32c verify", """
            cd '\(mount)'
            common="--directory=\(mount) --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 --end_fsync=1"
            fio --output-format=terse --name=seq $common --rw=write --bs=1M --size=\(size) > /dev/null
            fio --output-format=terse --name=seqsmall $common --rw=write --bs=12k --size=\(size) > /dev/null
            fio --output-format=terse --name=rand $common --rw=randwrite --bs=4k --size=4M --randrepeat=0 > /dev/null
            fio --output-format=terse --name=randbig $common --rw=randwrite --bs=192k --size=\(size) > /dev/null
            fio --output-format=terse --name=readback --directory=\(mount) --rw=read --bs=1M --size=\(size) --filename=seq.0.0 --verify=crc32c --verify_only=1 > /dev/null
            """)
    }

    /// rename(2) flags, links, fifos, modes, owners, times, truncate, O_EXCL, O_APPEND, sparse
    /// files, statfs, long names and locks, each with the tool people would use.
    static func posixSemantics(mount: String) async throws {
        try await Shell.check("renameat2 NOREPLACE and EXCHANGE", """
            cd '\(mount)'; mkdir -p ren && cd ren
            echo a > a; echo b > b
            python3 - <<'PY'
            import ctypes, os, errno
            libc = ctypes.CDLL(None, use_errno=True)
            AT = -100
            def renameat2(old, new, flags):
                if libc.renameat2(AT, old.encode(), AT, new.encode(), flags) != 0:
                    return ctypes.get_errno()
                return 0
            assert renameat2("a", "b", 1) == errno.EEXIST, "NOREPLACE over an existing name"
            assert open("a").read() == "a\\n" and open("b").read() == "b\\n"
            assert renameat2("a", "b", 2) == 0, "EXCHANGE"
            assert open("a").read() == "b\\n" and open("b").read() == "a\\n"
            assert renameat2("a", "nonexistent", 2) == errno.ENOENT, "EXCHANGE with a missing target"
            assert renameat2("a", "c", 1) == 0 and not os.path.exists("a") and open("c").read() == "b\\n"
            os.mkdir("d"); os.mkdir("e"); open("e/x", "w").close()
            assert renameat2("d", "e", 0) == errno.ENOTEMPTY
            os.rename("c", "b")
            assert open("b").read() == "b\\n" and sorted(os.listdir(".")) == ["b", "d", "e"]
            PY
            """)
        try await Shell.check("xattrs", """
            cd '\(mount)'; echo x > xf
            setfattr -n user.color -v blue xf
            setfattr -n user.empty xf
            test "$(getfattr --only-values -n user.color xf)" = blue
            getfattr -d xf | grep -q 'user.color="blue"'
            getfattr -d xf | grep -q 'user.empty'
            python3 - <<'PY'
            import os, errno
            v = "v" * 300
            os.setxattr("xf", "user.long", v.encode())
            assert os.getxattr("xf", "user.long") == v.encode()
            try:
                os.setxattr("xf", "user.long", b"1", os.XATTR_CREATE); raise SystemExit("XATTR_CREATE over existing")
            except OSError as e: assert e.errno == errno.EEXIST
            try:
                os.setxattr("xf", "user.none", b"1", os.XATTR_REPLACE); raise SystemExit("XATTR_REPLACE of missing")
            except OSError as e: assert e.errno == errno.ENODATA
            try:
                os.getxattr("xf", "user.none"); raise SystemExit("missing xattr read")
            except OSError as e: assert e.errno == errno.ENODATA
            assert sorted(os.listxattr("xf")) == ["user.color", "user.empty", "user.long"], os.listxattr("xf")
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            buf = ctypes.create_string_buffer(10)
            assert libc.getxattr(b"xf", b"user.long", None, 0) == 300, "size probe"
            assert libc.getxattr(b"xf", b"user.long", buf, 10) == -1 and ctypes.get_errno() == errno.ERANGE
            assert libc.listxattr(b"xf", buf, 5) == -1 and ctypes.get_errno() == errno.ERANGE
            PY
            setfattr -x user.color xf
            ! getfattr -n user.color xf 2>/dev/null
            """)
        try await Shell.check("chmod, chown, truncate, utimens, times", """
            cd '\(mount)'; printf 'hello world' > attr
            chmod 0751 attr; test "$(stat -c %a attr)" = 751
            chmod u+s,g+s attr; test "$(stat -c %a attr)" = 6751
            chown 1234:5678 attr; test "$(stat -c %u:%g attr)" = 1234:5678
            truncate -s 5 attr; test "$(cat attr)" = hello
            truncate -s 3000000 attr; test "$(stat -c %s attr)" = 3000000
            cmp -n 2999995 -i 5:0 attr /dev/zero
            touch -d '2001-02-03 04:05:06.123456789' attr
            test "$(stat -c %y attr | cut -c1-29)" = '2001-02-03 04:05:06.123456789'
            touch -a -d '1999-01-01 00:00:00' attr; test "$(stat -c %x attr | cut -c1-19)" = '1999-01-01 00:00:00'
            before=$(stat -c %Z attr); sleep 1.1; chmod 600 attr; test "$(stat -c %Z attr)" -gt "$before"
            touch attr; now=$(date +%s); test $((now - $(stat -c %Y attr))) -le 2
            m1=$(stat -c %Y attr); sleep 1.1; echo more >> attr; test "$(stat -c %Y attr)" -gt "$m1"
            d1=$(stat -c %Y .); sleep 1.1; touch newfile; test "$(stat -c %Y .)" -gt "$d1"
            """)
        try await Shell.check("symlinks, hard links, fifos", """
            cd '\(mount)'; mkdir -p links && cd links
            echo target > t
            ln -s t sym; test "$(readlink sym)" = t; test "$(cat sym)" = target
            ln -s "$(printf 'd%.0s' $(seq 1 300))/deep" longsym; test "$(readlink longsym | wc -c)" -eq 306
            ln t hard; test "$(stat -c %h t)" = 2; test "$(stat -c %i t)" = "$(stat -c %i hard)"
            echo more >> hard; test "$(cat t)" = "$(printf 'target\\nmore')"
            rm t; test "$(stat -c %h hard)" = 1; grep -q more hard
            mkfifo fifo; test "$(stat -c %F fifo)" = fifo
            (echo through-the-fifo > fifo) & test "$(cat fifo)" = through-the-fifo; wait
            python3 -c 'import os, stat; os.mknod("node", 0o644 | stat.S_IFREG); assert os.path.isfile("node")'
            mkdir sub; test "$(stat -c %h sub)" = 2; test "$(stat -c %h .)" = 3
            """)
        try await Shell.check("O_EXCL, O_APPEND, O_TRUNC, fallocate", """
            cd '\(mount)'
            python3 - <<'PY'
            import os, errno
            fd = os.open("excl", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644); os.close(fd)
            try:
                os.open("excl", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644); raise SystemExit("O_EXCL twice")
            except OSError as e: assert e.errno == errno.EEXIST
            a = os.open("app", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
            b = os.open("app", os.O_WRONLY | os.O_APPEND)
            os.write(a, b"one\\n"); os.write(b, b"two\\n"); os.write(a, b"three\\n")
            os.close(a); os.close(b)
            assert open("app").read() == "one\\ntwo\\nthree\\n", open("app").read()
            with open("trunc", "w") as f: f.write("a long first version")
            with open("trunc", "w") as f: f.write("short")
            assert open("trunc").read() == "short"
            fd = os.open("trunc", os.O_RDWR | os.O_TRUNC); os.close(fd)
            assert os.stat("trunc").st_size == 0
            PY
            fallocate -l 1M falloc; test "$(stat -c %s falloc)" = 1048576; cmp -n 1048576 falloc /dev/zero
            """)
        try await Shell.check("sparse files read zeros", """
            cd '\(mount)'
            dd if=/dev/urandom of=sparse bs=4k count=1 seek=1000 status=none
            test "$(stat -c %s sparse)" = $((1001 * 4096))
            cmp -n $((1000 * 4096)) sparse /dev/zero
            truncate -s 64M sparse2; printf end >> sparse2
            test "$(tail -c 3 sparse2)" = end
            cmp -n $((64 * 1024 * 1024)) sparse2 /dev/zero
            """)
        try await Shell.check("statfs and long names", """
            cd '\(mount)'
            test "$(stat -f -c %l .)" = 255
            df -P . | tail -1 | awk '{ exit !($2 > 0) }'
            name255=$(printf 'n%.0s' $(seq 1 255)); name256=${name255}x
            touch "$name255"; test -f "$name255"; echo ok > "$name255"; test "$(cat "$name255")" = ok
            mkdir "d$(printf 'n%.0s' $(seq 1 254))"
            ! touch "$name256" 2> err; grep -q 'File name too long' err
            ! mkdir "$name256" 2> err; grep -q 'File name too long' err
            ls | grep -q "^$name255$"
            deep=.; for i in $(seq 1 40); do deep="$deep/$(printf 'p%.0s' $(seq 1 90))"; done
            mkdir -p "$deep"; touch "$deep/leaf"; test -f "$deep/leaf"
            """)
        try await Shell.check("names are bytes: not UTF-8, 255 bytes, never merged", """
            cd '\(mount)'; mkdir bytes && cd bytes
            python3 - <<'PY'
            import errno, os
            one, two = b"bad\\xffone", b"bad\\xfeone"
            with open(one, "wb") as f: f.write(b"1")
            with open(two, "wb") as f: f.write(b"22")
            os.mkdir(b"\\x80\\x81")
            assert sorted(os.listdir(b".")) == sorted([one, two, b"\\x80\\x81"]), os.listdir(b".")
            assert os.stat(one).st_size == 1 and os.stat(two).st_size == 2, "two names, two files"
            os.rename(one, b"\\x80\\x81/\\xc3\\x28")
            assert not os.path.exists(one) and open(b"\\x80\\x81/\\xc3\\x28", "rb").read() == b"1"
            os.symlink(b"to\\xff\\xfe", b"link\\xff")
            assert os.readlink(b"link\\xff") == b"to\\xff\\xfe" and os.lstat(b"link\\xff").st_size == 4
            os.unlink(b"\\x80\\x81/\\xc3\\x28"); os.rmdir(b"\\x80\\x81"); os.unlink(two); os.unlink(b"link\\xff")
            assert os.listdir(b".") == []
            longest = b"\\xff" * 255
            open(longest, "w").close(); assert os.listdir(b".") == [longest]; os.unlink(longest)
            try:
                open(longest + b"x", "w"); raise SystemExit("a name of 256 bytes was accepted")
            except OSError as e: assert e.errno == errno.ENAMETOOLONG
            PY
            """)
        try await Shell.check("flock and POSIX byte-range locks", """
            cd '\(mount)'; : > lockfile
            flock lockfile -c 'sleep 2' & sleep 0.5
            if flock -n lockfile -c true; then echo "flock not exclusive"; exit 1; fi
            wait; flock -n lockfile -c true
            python3 - <<'PY'
            import fcntl, os, subprocess, sys
            fd = os.open("lockfile", os.O_RDWR)
            fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
            probe = "import fcntl, os, sys; fd = os.open('lockfile', os.O_RDWR)\\ntry:\\n    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, int(sys.argv[1]))\\nexcept OSError:\\n    sys.exit(3)"
            assert subprocess.call([sys.executable, "-c", probe, "5"]) == 3, "overlapping byte range was granted"
            assert subprocess.call([sys.executable, "-c", probe, "10"]) == 0, "disjoint byte range was refused"
            os.close(fd)
            assert subprocess.call([sys.executable, "-c", probe, "5"]) == 0, "lock kept after close"
            PY
            """)
        try await Shell.check("permissions enforced for another user", """
            cd '\(mount)'; mkdir -p perm; chmod 755 perm
            echo secret > perm/private; chmod 600 perm/private
            echo open > perm/public; chmod 644 perm/public
            as() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
            as cat perm/public > /dev/null
            ! as cat perm/private 2> err; grep -q 'Permission denied' err
            ! as sh -c 'echo x >> perm/public' 2> err; grep -q 'Permission denied' err
            ! as touch perm/new 2> err; grep -q 'Permission denied' err
            chmod 1777 perm; as touch perm/mine; test "$(stat -c %u perm/mine)" = 65534
            ! as rm perm/public 2> err
            """)
    }
}

extension MountChecks {
    /// What one mount writes and closes, the other reads on its next open, even though both
    /// had the file's attributes and pages cached; names created or removed show up after the
    /// entry timeout.
    static func closeToOpen(first: String, second: String) async throws {
        try await Shell.check("close-to-open between two mounts", """
            echo version-one > '\(first)/shared'
            test "$(cat '\(second)/shared')" = version-one
            stat '\(second)/shared' > /dev/null
            # Rewritten longer on the first mount: the second's cached size and pages are stale.
            echo 'version-two is longer' > '\(first)/shared'
            test "$(cat '\(second)/shared')" = 'version-two is longer'
            echo appended >> '\(second)/shared'
            test "$(tail -n 1 '\(first)/shared')" = appended
            test "$(stat -c %s '\(first)/shared')" = 31
            truncate -s 4 '\(first)/shared'
            test "$(cat '\(second)/shared')" = vers
            mkdir '\(first)/dir'; head -c 3000000 /dev/urandom > '\(first)/dir/blob'
            cmp '\(first)/dir/blob' '\(second)/dir/blob'
            rm '\(second)/dir/blob'; sleep 1.2
            test ! -e '\(first)/dir/blob'
            """)
    }
}
