#!/usr/bin/env python3
"""Writes NOTICE: Ferry's own notice, then every component the packaged app bundles (its runtime
dependencies) with its licence (from its POM in the local Maven repository) and its own NOTICE text.

    ./mvnw -q dependency:list -pl app -DincludeScope=runtime -DexcludeGroupIds=dev.ferry \
        -DoutputFile=target/runtime-dependencies.txt
    python3 scripts/notice.py app/target/runtime-dependencies.txt > NOTICE

A test (app: BundledNoticeIT) checks that NOTICE names every component the jar bundles.
"""
import os, re, sys, zipfile
import xml.etree.ElementTree as ET

M2 = os.path.expanduser("~/.m2/repository")

def bundled(listing):
    """group, artifact, version of each line of `mvn dependency:list` output."""
    for line in open(listing, encoding="utf-8"):
        m = re.match(r"\s*([\w.\-]+):([\w.\-]+):jar:(?:[\w.\-]+:)?([\w.\-]+):(compile|runtime)", line)
        if m:
            yield m.group(1), m.group(2), m.group(3)

def pom_licences(group, artifact, version, depth=0):
    path = os.path.join(M2, *group.split("."), artifact, version, f"{artifact}-{version}.pom")
    if not os.path.exists(path) or depth > 4:
        return []
    text = re.sub(r'\sxmlns="[^"]+"', "", open(path, encoding="utf-8", errors="replace").read(), count=1)
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    names = [l.findtext("name") or l.findtext("url") for l in root.findall("./licenses/license")]
    if names:
        return [n.strip() for n in names if n]
    parent = root.find("parent")
    if parent is not None:
        return pom_licences(parent.findtext("groupId"), parent.findtext("artifactId"), parent.findtext("version"), depth + 1)
    return []

def notice_of(group, artifact, version):
    path = os.path.join(M2, *group.split("."), artifact, version, f"{artifact}-{version}.jar")
    if not os.path.exists(path):
        return ""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if re.fullmatch(r"META-INF/NOTICE(\.txt|\.md)?", name, re.I):
                return z.read(name).decode("utf-8", "replace").strip()
    return ""

def main(listing):
    out = ["Ferry",
           "Copyright 2026 The Ferry developers",
           "",
           "This product is licensed under the Apache License, Version 2.0 (see LICENSE).",
           "",
           "The packaged application (app/target/ferry.jar) bundles the components below, each under",
           "its own licence; their notices follow the list.",
           ""]
    components = sorted({(g, a, v) for g, a, v in bundled(listing) if g != "dev.ferry"})
    notices = []
    for g, a, v in components:
        licences = "; ".join(pom_licences(g, a, v)) or "see the component's own distribution"
        out.append(f"- {g}:{a}:{v} ({licences})")
        n = notice_of(g, a, v)
        if n and n not in [x[1] for x in notices]:
            notices.append((f"{g}:{a}", n))
    for name, text in notices:
        out += ["", "=" * 78, f"Notice of {name}:", "", text]
    print("\n".join(out))

if __name__ == "__main__":
    main(sys.argv[1])
