#!/usr/bin/env python3
"""Builds the base of Ferry's container image from this machine alone, for Jib (tar://):

  - a Java runtime linked with jlink from the JDK that runs the build (only the modules Ferry uses),
  - the C libraries that runtime links against, taken from this machine (ldd),
  - /etc/passwd and /etc/group with the user `ferry` (65532), /tmp, /config and /data.

No registry is needed (this machine reaches none for images). Usage:
    python3 base-image.py JAVA_HOME OUTPUT.tar
The output is a `docker save` tarball of one layer; the same inputs give the same bytes.
"""
import hashlib, io, json, os, shutil, subprocess, sys, tarfile, tempfile

# jdeps --print-module-deps --multi-release 21 app/target/ferry.jar, plus what is loaded by name at run time
# (the JDK's DNS naming, elliptic-curve TLS, zip file systems, JFR, the logging bridge, Kerberos logins for
# Kafka's SASL/GSSAPI)
MODULES = ("java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming,"
           "java.net.http,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.xml,"
           "jdk.crypto.ec,jdk.httpserver,jdk.jfr,jdk.management,jdk.naming.dns,jdk.net,jdk.unsupported,jdk.zipfs,"
           "jdk.localedata,jdk.charsets,jdk.security.auth,jdk.security.jgss")
UID = 65532


def jlink(java_home, into):
    subprocess.run([os.path.join(java_home, "bin", "jlink"), "--add-modules", MODULES, "--strip-debug",
                    "--no-man-pages", "--no-header-files", "--compress=zip-6",
                    # the JDK's own classes pre-parsed in a class-data archive: a faster start for every run
                    "--generate-cds-archive", "--output", into], check=True)


def shared_libraries(root):
    """Every library outside the runtime that its executables and libraries load, with the loader."""
    needed = set()
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not (name.endswith(".so") or folder.endswith("/bin")) or os.path.islink(path):
                continue
            out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if "=>" in parts:
                    target = parts[parts.index("=>") + 1]
                    if target.startswith("/") and not target.startswith(root):
                        needed.add(target)
                elif parts and parts[0].startswith("/"):
                    needed.add(parts[0])  # the loader, e.g. /lib64/ld-linux-x86-64.so.2
    return sorted(needed)


def add_file(tar, name, data, mode=0o644, uid=0):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.uid, info.gid = len(data), mode, 0, uid, uid
    tar.addfile(info, io.BytesIO(data))


def add_dir(tar, name, mode=0o755, uid=0):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.uid, info.gid = tarfile.DIRTYPE, mode, 0, uid, uid
    tar.addfile(info)


def layer(runtime, libraries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = {"etc", "opt", "tmp", "proc", "config", "data", "home", "home/ferry"}
        for lib in libraries:
            parts = lib.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for folder, subdirs, files in os.walk(runtime):
            rel = os.path.relpath(folder, os.path.dirname(os.path.dirname(runtime)))
            dirs.add(rel)
        for d in sorted(dirs):
            add_dir(tar, d, mode=0o1777 if d == "tmp" else 0o755, uid=UID if d in ("data", "home/ferry") else 0)
        base = os.path.dirname(os.path.dirname(runtime))
        for folder, subdirs, files in sorted(os.walk(runtime)):
            for name in sorted(files):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    add_file(tar, os.path.relpath(path, base), f.read(), os.stat(path).st_mode & 0o777)
        for lib in libraries:
            with open(os.path.realpath(lib), "rb") as f:
                add_file(tar, lib.lstrip("/"), f.read(), 0o755)
        add_file(tar, "etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\nferry:x:65532:65532:ferry:/home/ferry:/sbin/nologin\n")
        add_file(tar, "etc/group", b"root:x:0:\nferry:x:65532:\n")
        add_file(tar, "etc/nsswitch.conf", b"hosts: files dns\n")
    return buffer.getvalue()


def main(java_home, output):
    work = tempfile.mkdtemp()
    try:
        runtime = os.path.join(work, "opt", "java")
        jlink(java_home, runtime)
        data = layer(runtime, shared_libraries(runtime))
        diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/opt/java/bin:/usr/bin:/bin", "JAVA_HOME=/opt/java"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "app/src/image/base-image.py (jlink + the C libraries it needs)"}],
        }, sort_keys=True).encode()
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        manifest = json.dumps([{"Config": config_name, "RepoTags": ["ferry-base:local"],
                                "Layers": ["layer.tar"]}]).encode()
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with tarfile.open(output, "w", format=tarfile.PAX_FORMAT) as tar:
            add_file(tar, "layer.tar", data)
            add_file(tar, config_name, config)
            add_file(tar, "manifest.json", manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
