#!/usr/bin/env python3
"""Write a Spack v3 build-cache mirror whose index holds N specs.

The index blob is Spack's database format (version 8, spec format v5) with
records shaped like the real ones in ../shared/testdata/spack-buildcache:
name, version, arch with a microarchitecture target and its features,
parameters, dependencies with deptypes and virtuals (the compiler as a build
dependency providing c/cxx), 32-character hashes, ref_count, and a mix of
in_buildcache true and false (externals and build-only dependencies).  The
manifest carries the blob's sha256 and size, as Spack writes it.

The output is deterministic for a given --specs and --seed.
Usage: gen_mirror.py --out DIR [--specs N] [--seed S] [--manifests]
"""

import argparse
import hashlib
import json
import os
import random
import sys

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"

WORDS = """zlib bzip2 xz zstd lz4 openssl curl libxml2 expat sqlite ncurses readline
gettext libiconv pcre2 libffi python perl ruby lua tcl tk cmake ninja meson autoconf
automake libtool m4 pkgconf gmake bison flex hdf5 netcdf-c netcdf-fortran pnetcdf
openmpi mpich mvapich2 ucx libfabric hwloc numactl openblas lapack scalapack fftw
petsc slepc hypre trilinos sundials superlu mumps metis parmetis scotch boost eigen
gsl gromacs lammps namd cp2k quantum-espresso nwchem abinit siesta wrf cesm samtools
bcftools htslib bwa bowtie2 star salmon kallisto blast-plus hmmer mafft muscle
iqtree2 raxml-ng beast2 gatk picard fastqc trimmomatic spades megahit kraken2
r julia go rust llvm gcc-runtime glibc binutils gdb valgrind papi tau hpctoolkit
caliper adios2 silo visit paraview vtk qt mesa libx11 freetype fontconfig cairo
pango harfbuzz glib gtkplus libpng libjpeg-turbo libtiff giflib proj gdal geos
""".split()

PY = """numpy scipy pandas matplotlib setuptools wheel pip cython mpi4py h5py
netcdf4 xarray dask distributed numba llvmlite pyyaml jinja2 markupsafe requests
urllib3 idna certifi charset-normalizer six packaging pyparsing python-dateutil
pytz tzdata pillow kiwisolver cycler fonttools contourpy scikit-learn joblib
threadpoolctl biopython pysam networkx sympy mpmath""".split()

TARGETS = [
    ("icelake", "GenuineIntel", ["cascadelake", "cannonlake"]),
    ("skylake_avx512", "GenuineIntel", ["skylake"]),
    ("zen3", "AuthenticAMD", ["zen2"]),
    ("zen4", "AuthenticAMD", ["zen3"]),
    ("neoverse_v1", "ARM", ["neoverse_n1"]),
]
FEATURES = """abm adx aes avx avx2 avx512_bitalg avx512_vbmi2 avx512_vnni
avx512_vpopcntdq avx512bw avx512cd avx512dq avx512f avx512ifma avx512vbmi
avx512vl bmi1 bmi2 clflushopt clwb cx16 f16c fma gfni lahf_lm mmx movbe
pclmulqdq popcnt rdpid rdrand rdseed sha_ni sse sse2 sse3 sse4_1 sse4_2 ssse3
vaes vpclmulqdq xsave xsavec xsaveopt""".split()
OSES = ["debian12", "ubuntu22.04", "rhel8", "amzn2023"]
BUILD_SYSTEMS = ["autotools", "cmake", "generic", "python_pip", "meson", "makefile"]


def dag_hash(rng):
    return "".join(rng.choice(BASE32) for _ in range(32))


def package_names(rng):
    names = list(WORDS) + ["py-" + p for p in PY]
    # and a long tail, as in a big site cache
    for i in range(1500):
        names.append("%s-%s%d" % (rng.choice(["py", "r", "perl", "lib"]), rng.choice(WORDS), i))
    return names


def version(rng):
    parts = [str(rng.randint(0, 12)), str(rng.randint(0, 30))]
    if rng.random() < 0.6:
        parts.append(str(rng.randint(0, 20)))
    return ".".join(parts)


def arch(rng):
    os_ = rng.choice(OSES)
    if rng.random() < 0.15:
        return {"platform": "linux", "platform_os": os_, "target": "x86_64"}
    name, vendor, parents = rng.choice(TARGETS)
    return {"platform": "linux", "platform_os": os_,
            "target": {"name": name, "vendor": vendor, "features": FEATURES,
                       "generation": 0, "parents": parents, "cpupart": ""}}


def parameters(rng, build_system):
    p = {"build_system": build_system}
    for v in rng.sample(["shared", "pic", "mpi", "openmp", "fortran", "cuda", "ipo"],
                        rng.randint(0, 4)):
        p[v] = rng.random() < 0.5
    for flags in ("cflags", "cppflags", "cxxflags", "fflags", "ldflags", "ldlibs"):
        p[flags] = []
    return p


def dep(name, h, deptypes, virtuals):
    return {"name": name, "hash": h,
            "parameters": {"deptypes": deptypes, "virtuals": virtuals}}


def spec(rng, name, ver, h, deps, external=None):
    s = {"name": name, "version": ver, "arch": arch(rng),
         "namespace": "builtin",
         "parameters": parameters(rng, rng.choice(BUILD_SYSTEMS))}
    if external:
        s["external"] = external
    s["package_hash"] = "".join(rng.choice(BASE32) for _ in range(52)) + "===="
    if deps:
        s["dependencies"] = deps
    s["annotations"] = {"original_specfile_version": 5}
    s["hash"] = h
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="mirror directory to create")
    ap.add_argument("--specs", type=int, default=100000, help="records in the index")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--manifests", action="store_true",
                    help="also write a spec manifest per in-cache spec (slow for big N)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    names = package_names(rng)

    # the base every spec depends on: compilers and libc, externals not in the cache
    base = []
    for ver in ("12.2.0", "13.2.0"):
        base.append(("gcc", ver, dag_hash(rng), {"path": "/usr", "module": None,
                                                "extra_attributes": {}}))
    base.append(("glibc", "2.36", dag_hash(rng), {"path": "/usr", "module": None,
                                                 "extra_attributes": {}}))
    runtimes = [("gcc-runtime", b[1], dag_hash(rng)) for b in base if b[0] == "gcc"]

    tmp_blob = os.path.join(a.out, "index.json.tmp")
    os.makedirs(a.out, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    hashes = []
    in_cache = []
    with open(tmp_blob, "wb") as f:
        def put(text):
            nonlocal size
            b = text.encode()
            h.update(b)
            f.write(b)
            size += len(b)

        put('{"database":{"version":"8","installs":{')
        first = True
        n = 0

        def record(h_, s, ref, cached):
            nonlocal first, n
            body = json.dumps({"spec": s, "ref_count": ref, "in_buildcache": cached},
                              separators=(",", ":"))
            put(("" if first else ",") + json.dumps(h_) + ":" + body)
            first = False
            n += 1
            hashes.append(h_)
            if cached:
                in_cache.append((s["name"], s["version"], h_))

        for name, ver, hh, ext in base:
            record(hh, spec(rng, name, ver, hh, None, ext), a.specs, False)
        gcc, glibc = base[0], base[2]
        for name, ver, hh in runtimes:
            record(hh, spec(rng, name, ver, hh, [dep("gcc", gcc[2], ["build"], []),
                                                 dep("glibc", glibc[2], ["link"], ["libc"])]),
                   a.specs // 2, True)
        while n < a.specs:
            comp = base[rng.randint(0, 1)]
            rt = runtimes[0 if comp[1] == "12.2.0" else 1]
            deps = [dep(comp[0], comp[2], ["build"], ["c", "cxx"]),
                    dep(rt[0], rt[2], ["link"], []),
                    dep("glibc", glibc[2], ["link"], ["libc"])]
            for _ in range(rng.randint(0, 4)):
                if len(hashes) > len(base) + len(runtimes):
                    other = rng.randint(len(base) + len(runtimes), len(hashes) - 1)
                    deps.append(dep(rng.choice(names), hashes[other],
                                    rng.choice([["build", "link"], ["link"], ["run"], ["build"]]),
                                    []))
            hh = dag_hash(rng)
            record(hh, spec(rng, rng.choice(names), version(rng), hh, deps),
                   rng.randint(0, 3), rng.random() < 0.9)
        put("}}}")

    digest = h.hexdigest()
    blob_dir = os.path.join(a.out, "blobs", "sha256", digest[:2])
    os.makedirs(blob_dir, exist_ok=True)
    blob = os.path.join(blob_dir, digest)
    os.replace(tmp_blob, blob)
    man_dir = os.path.join(a.out, "v3", "manifests", "index")
    os.makedirs(man_dir, exist_ok=True)
    manifest = {"version": 3, "data": [{
        "contentLength": size, "mediaType": "application/vnd.spack.db.v8+json",
        "compression": "none", "checksumAlgorithm": "sha256", "checksum": digest}]}
    with open(os.path.join(man_dir, "index.manifest.json"), "w") as f:
        json.dump(manifest, f, indent=0, separators=(",", ":"))
    with open(os.path.join(a.out, "v3", "layout.json"), "w") as f:
        json.dump({"signing": "gpg"}, f)
    if a.manifests:
        for name, ver, hh in in_cache:
            d = os.path.join(a.out, "v3", "manifests", "spec", name)
            os.makedirs(d, exist_ok=True)
            m = {"version": 3, "data": [{
                "contentLength": 1000, "mediaType": "application/vnd.spack.install.v2.tar+gzip",
                "compression": "gzip", "checksumAlgorithm": "sha256",
                "checksum": hashlib.sha256(hh.encode()).hexdigest()}]}
            with open(os.path.join(d, "%s-%s-%s.spec.manifest.json" % (name, ver, hh)), "w") as f:
                json.dump(m, f, indent=0, separators=(",", ":"))
    print("%s: %d specs (%d in the cache), index blob %s, %d bytes"
          % (a.out, a.specs, len(in_cache), blob, size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
