#!/usr/bin/env python3
"""Regenerate the dropca issuance test fixtures.

Writes, next to this script:
  ca/            test CA certificates and keys
  requests/      one PKCS#10 request per policy rule (the README's issuance policy)
  corpus/        requests as real tools and appliances produce them
  manifest.json  the expected outcome of every file in requests/ and corpus/

Needs: openssl (3.x), keytool (Java 17), certtool (GnuTLS), Python 3.11 with
`cryptography`, which scripts/setup installs into .build/checkers-venv at the package
root.  Run as `.build/checkers-venv/bin/python3 Tests/IssuanceTests/Fixtures/make-fixtures.py`
from the package root, or with any Python that has `cryptography` from any directory.  The old
ca/, requests/ and corpus/ folders are removed and written anew; every run
makes new keys, so every file changes.

Requests that no tool produces are built here as DER (a small encoder below).
Where the request must still carry a valid self-signature, the hand-built
CertificationRequestInfo is signed with a real key through `cryptography`, so
that only the intended defect is present.
"""

import base64
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
CA_DIR = HERE / "ca"
REQ_DIR = HERE / "requests"
CORPUS_DIR = HERE / "corpus"
MANIFEST = HERE / "manifest.json"

# ca/short-lived.pem expires this many days after the fixtures were made; tests that
# need the validity cut to the CA's notAfter set certificate.validity_days = 3650.
# After it has expired, run this script again.
SHORT_LIVED_DAYS = 1825

TMP = None  # working directory for keys and intermediate files (set in main)
MANIFEST_ENTRIES = []

# ---------------------------------------------------------------------------
# OIDs

OID_RSA = "1.2.840.113549.1.1.1"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC = "1.2.840.10045.2.1"
OID_ED25519 = "1.3.101.112"
OID_ED448 = "1.3.101.113"
OID_MD2_RSA = "1.2.840.113549.1.1.2"
OID_MD4_RSA = "1.2.840.113549.1.1.3"
OID_SHA256_RSA = "1.2.840.113549.1.1.11"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_EXT_REQ = "1.2.840.113549.1.9.14"
OID_SAN = "2.5.29.17"
OID_KU = "2.5.29.15"
OID_EKU = "2.5.29.37"
OID_BC = "2.5.29.19"
OID_SKI = "2.5.29.14"

KU_NAMES = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
            "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

# ---------------------------------------------------------------------------
# A small DER encoder


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + _der_len(len(content)) + content


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def set_of(*parts):
    return tlv(0x31, b"".join(parts))


def integer(v):
    assert v >= 0
    return tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for i, arc in enumerate([arcs[0] * 40 + arcs[1]] + arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def null():
    return b"\x05\x00"


def boolean(v):
    return tlv(0x01, b"\xff" if v else b"\x00")


def bit_string(data, unused=0):
    return tlv(0x03, bytes([unused]) + data)


def octet_string(data):
    return tlv(0x04, data)


def utf8(s):
    return tlv(0x0C, s.encode("utf-8"))


def printable(s):
    return tlv(0x13, s.encode("ascii"))


def ia5(s):
    return tlv(0x16, s.encode("ascii"))


def bmp(s):
    return tlv(0x1E, s.encode("utf-16-be"))


def ctx(n, content, constructed=True):
    return tlv((0xA0 if constructed else 0x80) | n, content)


def extension(ext_oid, value, critical=False):
    return seq(oid(ext_oid), boolean(True) if critical else b"", octet_string(value))


def ext_request(*exts):
    return seq(oid(OID_EXT_REQ), set_of(seq(*exts)))


def gn_dns(s):
    return tlv(0x82, s.encode())


def name(*rdns):
    """rdns: (oid, encoded value) pairs, one RDN each."""
    return seq(*[set_of(seq(oid(o), v)) for o, v in rdns])


def cri(subject, spki, attributes=(), version=0):
    return seq(integer(version), subject, spki, ctx(0, b"".join(attributes)))


# ---------------------------------------------------------------------------
# A small DER reader (for checks and for the manifest)


def read_tlv(buf, off=0):
    tag = buf[off]
    ln = buf[off + 1]
    hdr = 2
    if ln & 0x80:
        nb = ln & 0x7F
        ln = int.from_bytes(buf[off + 2:off + 2 + nb], "big")
        hdr += nb
    start = off + hdr
    end = start + ln
    if end > len(buf):
        raise ValueError("truncated DER")
    return tag, start, end


def children(buf):
    out, off = [], 0
    while off < len(buf):
        tag, start, end = read_tlv(buf, off)
        out.append((tag, buf[off:end], buf[start:end]))
        off = end
    return out


def decode_oid(content):
    arcs, val = [], 0
    for b in content:
        val = (val << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(val)
            val = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def parse_csr(der):
    tag, start, end = read_tlv(der)
    assert tag == 0x30 and end == len(der), "not one DER SEQUENCE"
    (_, cri_der, cri_c), (_, _, alg_c), (_, _, sig_c) = children(der[start:end])
    parts = children(cri_c)
    version = int.from_bytes(parts[0][2], "big")
    subject_c = parts[1][2]
    spki_c = parts[2][2]
    alg = children(children(spki_c)[0][2])
    key_oid = decode_oid(alg[0][2])
    key_params_tag = alg[1][0] if len(alg) > 1 else None
    exts = []
    if len(parts) > 3:
        for _, _, attr_c in children(parts[3][2]):
            a = children(attr_c)
            if decode_oid(a[0][2]) == OID_EXT_REQ:
                for _, _, ext_c in children(children(a[1][2])[0][2]):
                    e = children(ext_c)
                    crit = len(e) == 3 and e[1][2] == b"\xff"
                    exts.append((decode_oid(e[0][2]), crit, e[-1][2]))
    return {
        "cri": cri_der,
        "version": version,
        "subject_empty": len(subject_c) == 0,
        "key_oid": key_oid,
        "key_params_tag": key_params_tag,
        "sig_alg": decode_oid(children(alg_c)[0][2]),
        "sig": sig_c[1:],
        "exts": exts,
    }


def ku_bits(value):
    tag, start, end = read_tlv(value)
    assert tag == 0x03
    data = value[start + 1:end]
    return [n for i, n in enumerate(KU_NAMES) if i // 8 < len(data) and data[i // 8] & (0x80 >> (i % 8))]


def ku_after(key_oid, bits):
    """The README's issuance policy: the KU bits the certificate keeps."""
    bits = [b for b in bits if b not in ("keyCertSign", "cRLSign")]
    if key_oid in (OID_RSA, OID_RSA_PSS):
        bits = [b for b in bits if b not in ("keyAgreement", "encipherOnly", "decipherOnly")]
    elif key_oid == OID_EC:
        bits = [b for b in bits if b not in ("keyEncipherment", "dataEncipherment")]
    elif key_oid in (OID_ED25519, OID_ED448):
        bits = [b for b in bits if b in ("digitalSignature", "nonRepudiation")]
    if "keyAgreement" not in bits:
        bits = [b for b in bits if b not in ("encipherOnly", "decipherOnly")]
    return bits


def decode_input(data):
    """DER from DER, PEM (either label) or bare base64; used by the self-check only."""
    for label in (b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"):
        begin = b"-----BEGIN " + label + b"-----"
        if begin in data:
            body = data.split(begin, 1)[1].split(b"-----END " + label + b"-----", 1)[0]
            return base64.b64decode(b"".join(body.split()), validate=True)
    if data[:1] == b"\x30":
        return data
    return base64.b64decode(b"".join(data.split()), validate=True)


# ---------------------------------------------------------------------------
# Running tools


def run(args, stdin=None):
    r = subprocess.run(args, cwd=TMP, input=stdin, capture_output=True)
    if r.returncode != 0:
        sys.stderr.write(f"command failed: {shlex.join(args)}\n{r.stdout.decode(errors='replace')}"
                         f"{r.stderr.decode(errors='replace')}\n")
        raise SystemExit(1)
    return r.stdout


def tmp_read(name):
    return (TMP / name).read_bytes()


def tmp_write(name, data):
    (TMP / name).write_bytes(data if isinstance(data, bytes) else data.encode())


REQ_CNF = "req.cnf"
REQ_CNF_TEXT = """\
[req]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
prompt = no
[req_dn]
CN = unused
"""


def write_cnf(fname, dn, attributes=(), extensions=(), string_mask="utf8only"):
    """An openssl req config whose [req_dn] holds the subject. `openssl req -subj` would
    drop the config's attributes (challengePassword, ...), so requests with attributes
    take their subject from here."""
    text = "[req]\ndistinguished_name = req_dn\nprompt = no\n"
    text += f"string_mask = {string_mask}\n" + ("utf8 = yes\n" if string_mask == "utf8only" else "")
    if attributes:
        text += "attributes = req_attrs\n"
    if extensions:
        text += "req_extensions = req_ext\n"
    text += "[req_dn]\n" + "".join(f"{k} = {v}\n" for k, v in dn)
    if attributes:
        text += "[req_attrs]\n" + "".join(f"{k} = {v}\n" for k, v in attributes)
    if extensions:
        text += "[req_ext]\n" + "".join(f"{k} = {v}\n" for k, v in extensions)
    tmp_write(fname, text)
    return text


_keys = {}


def key(spec, tag=""):
    """Make (once per spec and tag) a private key with openssl; returns (file name in TMP, command used)."""
    if (spec, tag) in _keys:
        return _keys[(spec, tag)]
    fname = f"key-{spec}{tag}.pem".replace(":", "-")
    kind, _, arg = spec.partition(":")
    if kind == "rsa":
        args = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{arg}"]
    elif kind == "rsa-e3":
        args = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{arg}",
                "-pkeyopt", "rsa_keygen_pubexp:3"]
    elif kind == "rsa-pss":
        args = ["openssl", "genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", f"rsa_keygen_bits:{arg}"]
    elif kind == "rsa-pss-restricted":
        args = ["openssl", "genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", f"rsa_keygen_bits:{arg}",
                "-pkeyopt", "rsa_pss_keygen_md:sha256", "-pkeyopt", "rsa_pss_keygen_mgf1_md:sha256",
                "-pkeyopt", "rsa_pss_keygen_saltlen:32"]
    elif kind == "ec":
        args = ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{arg}"]
    elif kind == "ec-explicit":
        args = ["openssl", "ecparam", "-name", arg, "-param_enc", "explicit", "-genkey", "-noout"]
    elif kind in ("ed25519", "ed448", "x25519"):
        args = ["openssl", "genpkey", "-algorithm", kind.upper()]
    elif kind == "dsa":
        run(["openssl", "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", f"dsa_paramgen_bits:{arg}",
             "-out", f"dsaparam-{arg}.pem"])
        args = ["openssl", "genpkey", "-paramfile", f"dsaparam-{arg}.pem"]
    else:
        raise ValueError(spec)
    run(args + ["-out", fname])
    shown = shlex.join(args + ["-out", "key.pem"])
    if kind == "dsa":
        shown = f"openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:{arg} -out p.pem; " \
                "openssl genpkey -paramfile p.pem -out key.pem"
    _keys[(spec, tag)] = (fname, shown)
    return _keys[(spec, tag)]


def load_key(spec, tag=""):
    fname, _ = key(spec, tag)
    return serialization.load_pem_private_key(tmp_read(fname), password=None)


def spki_of(spec):
    return load_key(spec).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def openssl_req(keyspec, subj, addext=(), digest="sha256", extra=(), config=REQ_CNF, outform="PEM"):
    """openssl req -new; returns (bytes, made_by)."""
    kfile, kcmd = key(keyspec)
    args = ["openssl", "req", "-new", "-config", config, "-key", kfile]
    if subj is not None:
        args += ["-subj", subj]
    if digest:
        args.append("-" + digest)
    for e in addext:
        args += ["-addext", e]
    args += list(extra) + ["-outform", outform, "-out", "out.csr"]
    run(args)
    shown = [a for a in args]
    shown[shown.index(kfile)] = "key.pem"
    if config == REQ_CNF:  # the minimal config is an implementation detail; say so once in README
        i = shown.index("-config")
        del shown[i:i + 2]
    return tmp_read("out.csr"), f"{kcmd}; {shlex.join(shown)}"


def sign_cri(cri_der, priv):
    """Sign a hand-built CertificationRequestInfo with a real key; returns CertificationRequest DER."""
    if isinstance(priv, rsa.RSAPrivateKey):
        sig = priv.sign(cri_der, padding.PKCS1v15(), hashes.SHA256())
        alg = seq(oid(OID_SHA256_RSA), null())
        priv.public_key().verify(sig, cri_der, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(priv, ec.EllipticCurvePrivateKey):
        sig = priv.sign(cri_der, ec.ECDSA(hashes.SHA256()))
        alg = seq(oid(OID_ECDSA_SHA256))
        priv.public_key().verify(sig, cri_der, ec.ECDSA(hashes.SHA256()))
    elif isinstance(priv, ed25519.Ed25519PrivateKey):
        sig = priv.sign(cri_der)
        alg = seq(oid(OID_ED25519))
        priv.public_key().verify(sig, cri_der)
    else:
        raise TypeError(priv)
    return seq(cri_der, alg, bit_string(sig))


def garbage(n):
    return bytes((i * 151 + 7) & 0xFF for i in range(n))


def pem(der, label="CERTIFICATE REQUEST", eol="\n"):
    b64 = base64.b64encode(der).decode()
    lines = [f"-----BEGIN {label}-----"] + [b64[i:i + 64] for i in range(0, len(b64), 64)] + \
            [f"-----END {label}-----"]
    return (eol.join(lines) + eol).encode()


def subject_name(cn, o="Example Corp", c="US"):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, c),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)]).public_bytes()


# ---------------------------------------------------------------------------
# Manifest


def emit(rel, data, expect, code=None, made_by="", note="", policy=None, ku=None, **extra):
    """Write a request file and record its manifest entry.

    For issued entries key_usage_after, key_usage_critical and san_critical are
    worked out from the request and the README's rules; `ku` (when given) is
    the hand-written expectation and must agree with that.
    """
    path = HERE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    add_entry(rel, expect, code, made_by, note, policy, ku, **extra)


def add_entry(rel, expect, code=None, made_by="", note="", policy=None, ku=None, **extra):
    entry = {"file": rel, "expect": expect}
    if expect == "rejected":
        assert code in REJECTION_CODES, code
        entry["code"] = code
    if policy:
        entry["policy"] = policy
    if expect == "issued":
        info = parse_csr(decode_input((HERE / rel).read_bytes()))
        kus = [e for e in info["exts"] if e[0] == OID_KU]
        computed = ku_after(info["key_oid"], ku_bits(kus[0][2])) if kus else []
        if ku is not None:
            assert ku == computed, (rel, ku, computed)
        entry["key_usage_after"] = computed
        if computed:
            entry["key_usage_critical"] = kus[0][1]
        if any(e[0] == OID_SAN for e in info["exts"]):
            entry["san_critical"] = info["subject_empty"]
    entry.update(extra)
    entry["made_by"] = made_by.replace("-out out.csr", "-out " + rel.rsplit("/", 1)[1])
    if note:
        entry["note"] = note
    MANIFEST_ENTRIES.append(entry)


REJECTION_CODES = {"tooLarge", "unparseable", "trailingData", "unsupportedVersion",
                   "weakSignatureAlgorithm", "badSignature", "rsaKeyTooSmall", "rsaKeyTooLarge",
                   "rsaBadExponent", "curveNotAllowed", "explicitCurveParameters",
                   "keyTypeNotAllowed", "duplicateExtension", "malformedExtension", "namesNobody"}

# ---------------------------------------------------------------------------
# CA material


def make_ca():
    CA_DIR.mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    not_before = now - datetime.timedelta(days=1)
    twenty_years = now + datetime.timedelta(days=7305)

    def write_key(name, spec, fmt):
        kfile, _ = key(spec, tag=f"ca-{name}")
        if fmt == "pkcs8":
            shutil.copyfile(TMP / kfile, CA_DIR / f"{name}.key")
        elif fmt == "rsa-traditional":
            run(["openssl", "rsa", "-in", kfile, "-traditional", "-out", f"ca-{name}.key"])
            shutil.copyfile(TMP / f"ca-{name}.key", CA_DIR / f"{name}.key")
        elif fmt == "ec-traditional":
            run(["openssl", "ec", "-in", kfile, "-out", f"ca-{name}.key"])
            shutil.copyfile(TMP / f"ca-{name}.key", CA_DIR / f"{name}.key")
        head = (CA_DIR / f"{name}.key").read_bytes().split(b"\n", 1)[0]
        want = {"pkcs8": b"-----BEGIN PRIVATE KEY-----",
                "rsa-traditional": b"-----BEGIN RSA PRIVATE KEY-----",
                "ec-traditional": b"-----BEGIN EC PRIVATE KEY-----"}[fmt]
        assert head == want, (name, head)
        return load_key(spec, tag=f"ca-{name}")

    def cert(name, priv, cn, ca=True, ku=None, ski=True, not_after=twenty_years, der=False):
        pub = priv.public_key()
        subj = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dropca tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj).public_key(pub)
             .serial_number(x509.random_serial_number())
             .not_valid_before(not_before).not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        ku = ku or dict(key_cert_sign=True, crl_sign=True)
        flags = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                     crl_sign=False, encipher_only=False, decipher_only=False)
        flags.update(ku)
        b = b.add_extension(x509.KeyUsage(**flags), critical=True)
        if ski:
            s = x509.SubjectKeyIdentifier.from_public_key(pub)
            b = b.add_extension(s, critical=False)
            b = b.add_extension(x509.AuthorityKeyIdentifier(s.digest, None, None), critical=False)
        if isinstance(priv, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
            h = None
        elif isinstance(priv, ec.EllipticCurvePrivateKey):
            h = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[priv.curve.key_size]
        else:
            h = hashes.SHA256()
        c = b.sign(priv, h)
        (CA_DIR / f"{name}.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
        if der:
            (CA_DIR / f"{name}.der").write_bytes(c.public_bytes(serialization.Encoding.DER))

    # every CA gets its own key, never shared with a request
    for name, spec, fmt in [("rsa2048", "rsa:2048", "pkcs8"),
                            ("rsa3072", "rsa:3072", "rsa-traditional"),
                            ("p256", "ec:P-256", "ec-traditional"),
                            ("p384", "ec:P-384", "pkcs8"),
                            ("p521", "ec:P-521", "pkcs8"),
                            ("ed25519", "ed25519", "pkcs8"),
                            ("ed448", "ed448", "pkcs8")]:
        priv = write_key(name, spec, fmt)
        cert(name, priv, f"dropca test CA {name}", der=(name == "p256"))

    for name, cn, kw in [("not-a-ca", "dropca test not-a-ca", dict(ca=False, ku=dict(digital_signature=True))),
                         ("no-keycertsign", "dropca test CA no-keycertsign",
                          dict(ku=dict(digital_signature=True, crl_sign=True))),
                         ("no-ski", "dropca test CA no-ski", dict(ski=False)),
                         ("short-lived", "dropca test CA short-lived",
                          dict(not_after=now + datetime.timedelta(days=SHORT_LIVED_DAYS)))]:
        cert(name, write_key(name, "ec:P-256", "pkcs8"), cn, **kw)
    write_key("mismatched", "ec:P-256", "pkcs8")


# ---------------------------------------------------------------------------
# requests/


def R(name):
    return f"requests/{name}"


def make_requests():
    REQ_DIR.mkdir(parents=True)

    # --- keys and algorithms that are accepted
    for bits in (2048, 3072, 4096):
        data, by = openssl_req(f"rsa:{bits}", f"/C=US/O=Example Corp/CN=rsa{bits}.example.com",
                               [f"subjectAltName=DNS:rsa{bits}.example.com"])
        emit(R(f"accept-rsa{bits}.csr"), data, "issued", made_by=by, note=f"RSA {bits}, sha256WithRSAEncryption, PEM")
    data, by = openssl_req("rsa-e3:2048", "/C=US/O=Example Corp/CN=rsa-e3.example.com")
    emit(R("accept-rsa-exponent-3.csr"), data, "issued", made_by=by,
         note="RSA 2048 with public exponent 3: the smallest exponent the policy allows")
    for curve, digest in (("P-256", "sha256"), ("P-384", "sha384"), ("P-521", "sha512")):
        c = curve.lower().replace("-", "")
        data, by = openssl_req(f"ec:{curve}", f"/C=US/O=Example Corp/CN={c}.example.com",
                               [f"subjectAltName=DNS:{c}.example.com"], digest=digest)
        emit(R(f"accept-{c}.csr"), data, "issued", made_by=by, note=f"EC {curve}, ecdsa-with-{digest.upper()}")
    for alg in ("ed25519", "ed448"):
        data, by = openssl_req(alg, f"/C=US/O=Example Corp/CN={alg}.example.com",
                               [f"subjectAltName=DNS:{alg}.example.com"], digest=None)
        emit(R(f"accept-{alg}.csr"), data, "issued", made_by=by, note=f"{alg.capitalize()} key, pure EdDSA signature")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=pss-sig.example.com",
                           extra=["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"])
    emit(R("accept-rsa-pss-signature.csr"), data, "issued", made_by=by,
         note="ordinary rsaEncryption key, request signed with RSASSA-PSS (SHA-256, salt 32)")
    data, by = openssl_req("rsa-pss:2048", "/C=US/O=Example Corp/CN=pss-key.example.com")
    emit(R("accept-rsa-pss-key.csr"), data, "issued", made_by=by,
         note="id-RSASSA-PSS key without parameters in the SubjectPublicKeyInfo")
    data, by = openssl_req("rsa-pss-restricted:2048", "/C=US/O=Example Corp/CN=pss-key-params.example.com")
    emit(R("accept-rsa-pss-key-with-params.csr"), data, "issued", made_by=by,
         note="id-RSASSA-PSS key restricted to SHA-256/MGF1-SHA-256/salt 32 (parameters in the SPKI)")
    for digest in ("sha384", "sha512"):
        data, by = openssl_req("rsa:2048", f"/C=US/O=Example Corp/CN=rsa-{digest}.example.com", digest=digest)
        emit(R(f"accept-rsa2048-{digest}.csr"), data, "issued", made_by=by, note=f"{digest}WithRSAEncryption")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=p256-sha512.example.com", digest="sha512")
    emit(R("accept-p256-sha512.csr"), data, "issued", made_by=by, note="P-256 key, ecdsa-with-SHA512")

    # --- encodings
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=der.example.com",
                           ["subjectAltName=DNS:der.example.com"], outform="DER")
    emit(R("accept-der-rsa2048.der"), data, "issued", made_by=by, note="DER")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=der-p256.example.com", outform="DER")
    emit(R("accept-der-p256.der"), data, "issued", made_by=by, note="DER")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=newhdr.example.com", extra=["-newhdr"])
    assert data.startswith(b"-----BEGIN NEW CERTIFICATE REQUEST-----\n")
    emit(R("accept-pem-legacy-label.csr"), data, "issued", made_by=by,
         note="PEM label NEW CERTIFICATE REQUEST")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=crlf.example.com")
    emit(R("accept-pem-crlf.csr"), data.replace(b"\n", b"\r\n"), "issued",
         made_by=by + "; LF converted to CRLF", note="PEM with CRLF line endings")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=text.example.com",
                           ["subjectAltName=DNS:text.example.com"], extra=["-text"])
    assert not data.startswith(b"-----")
    data += b"\nUploaded by appliance web UI.\nContact: noc@example.com\n"
    emit(R("accept-pem-text-around.csr"), data, "issued", made_by=by + "; a footer appended",
         note="openssl -text dump before the PEM block, free text after it")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=bom.example.com")
    emit(R("accept-pem-utf8-bom.csr"), b"\xef\xbb\xbf" + data, "issued",
         made_by=by + "; UTF-8 byte order mark prepended",
         note="PEM saved by Windows Notepad: a UTF-8 BOM before the block (text before the block)")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=bare64.example.com", outform="DER")
    b64 = base64.b64encode(data).decode()
    wrapped = "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64)).encode()
    emit(R("accept-bare-base64-wrapped.txt"), wrapped, "issued",
         made_by=by + "; base64 of the DER, 64 columns, LF", note="bare base64, no armour, wrapped at 64")
    emit(R("accept-bare-base64-wrapped-crlf.txt"), wrapped.replace(b"\n", b"\r\n"), "issued",
         made_by=by + "; base64 of the DER, 64 columns, CRLF", note="same request, CRLF line endings")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=oneline.example.com", outform="DER")
    emit(R("accept-bare-base64-oneline.txt"), base64.b64encode(data), "issued",
         made_by=by + "; base64 of the DER on one line, no newline at the end",
         note="bare base64, one line")

    # --- names
    data, by = openssl_req("ec:P-256", "/", ["subjectAltName=DNS:empty-subject.example.com"])
    emit(R("accept-empty-subject-san.csr"), data, "issued", made_by=by,
         note="empty subject, SAN requested non-critical: the certificate's SAN must be critical")
    data, by = openssl_req("ec:P-256", "/", ["subjectAltName=critical,DNS:empty-subject-crit.example.com"])
    emit(R("accept-empty-subject-critical-san.csr"), data, "issued", made_by=by,
         note="empty subject, SAN requested critical")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=crit-san.example.com",
                           ["subjectAltName=critical,DNS:crit-san.example.com"])
    emit(R("accept-san-critical-nonempty-subject.csr"), data, "issued", made_by=by,
         note="SAN requested critical with a non-empty subject: the certificate's SAN must not be critical")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=www.example.com",
                           ["subjectAltName=DNS:www.example.com,DNS:api.example.com,IP:192.0.2.10,"
                            "IP:2001:db8::10,email:admin@example.com,URI:https://www.example.com/device/7"])
    emit(R("accept-san-all-types.csr"), data, "issued", made_by=by,
         note="SAN with dNSName, iPAddress v4 and v6, rfc822Name, URI")

    # --- key usage
    ku_cases = [
        ("accept-ku-ca-bits.csr", "ec:P-256", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
         ["digitalSignature"], "keyCertSign and cRLSign removed"),
        ("accept-rsa-ku-keyagreement.csr", "rsa:2048", "keyUsage=keyAgreement,digitalSignature,keyEncipherment",
         ["digitalSignature", "keyEncipherment"], "keyAgreement removed on an RSA key; KU stays non-critical"),
        ("accept-rsa-ku-decipheronly.csr", "rsa:2048",
         "keyUsage=critical,digitalSignature,keyAgreement,decipherOnly",
         ["digitalSignature"], "keyAgreement and decipherOnly removed on an RSA key"),
        ("accept-rsa-ku-only-keyagreement.csr", "rsa:2048", "keyUsage=critical,keyAgreement",
         [], "nothing left: KU extension left out"),
        ("accept-ec-ku-keyencipherment.csr", "ec:P-256", "keyUsage=critical,digitalSignature,keyEncipherment",
         ["digitalSignature"], "keyEncipherment removed on an EC key"),
        ("accept-ec-ku-encipheronly.csr", "ec:P-256", "keyUsage=critical,digitalSignature,encipherOnly",
         ["digitalSignature"], "encipherOnly without keyAgreement removed"),
        ("accept-ec-ku-keyagreement-encipheronly.csr", "ec:P-256", "keyUsage=critical,keyAgreement,encipherOnly",
         ["keyAgreement", "encipherOnly"], "encipherOnly with keyAgreement is kept on an EC key"),
        ("accept-ed25519-ku.csr", "ed25519", "keyUsage=critical,digitalSignature,keyEncipherment,nonRepudiation",
         ["digitalSignature", "nonRepudiation"], "keyEncipherment removed on an Ed25519 key"),
        ("accept-ed448-ku-keyagreement.csr", "ed448", "keyUsage=critical,digitalSignature,keyAgreement",
         ["digitalSignature"], "keyAgreement removed on an Ed448 key"),
        ("accept-ku-only-keycertsign.csr", "ec:P-256", "keyUsage=critical,keyCertSign",
         [], "only keyCertSign requested: nothing left, KU extension left out"),
    ]
    for fname, ks, ku_ext, want, note in ku_cases:
        cn = fname[len("accept-"):-len(".csr")]
        data, by = openssl_req(ks, f"/C=US/O=Example Corp/CN={cn}.example.com", [ku_ext],
                               digest=None if ks.startswith("ed") else "sha256")
        emit(R(fname), data, "issued", made_by=by, note=note, ku=want)

    # --- extended key usage, discarded extensions, attributes
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=eku.example.com",
                           ["subjectAltName=DNS:eku.example.com", "extendedKeyUsage=serverAuth,clientAuth"])
    emit(R("accept-eku-server-client.csr"), data, "issued", made_by=by,
         note="EKU serverAuth+clientAuth carried over as requested", eku_after=["serverAuth", "clientAuth"])
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=eku-oid.example.com",
                           ["extendedKeyUsage=codeSigning,1.3.6.1.4.1.55555.3.1"])
    emit(R("accept-eku-private-oid.csr"), data, "issued", made_by=by,
         note="EKU with codeSigning and a private OID, carried over byte for byte",
         eku_after=["codeSigning", "1.3.6.1.4.1.55555.3.1"])
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=no-eku.example.com",
                           ["subjectAltName=DNS:no-eku.example.com"])
    emit(R("accept-no-eku.csr"), data, "issued", made_by=by,
         note="no EKU requested: certificate.default_extended_key_usage applies when set")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=discard.example.com",
                           ["subjectAltName=DNS:discard.example.com",
                            "basicConstraints=critical,CA:TRUE,pathlen:0",
                            "nameConstraints=critical,permitted;DNS:.example.com",
                            "certificatePolicies=2.5.29.32.0",
                            "1.3.6.1.4.1.55555.1.1=ASN1:UTF8String:dropca-private-extension"])
    emit(R("accept-discarded-extensions.csr"), data, "issued", made_by=by,
         note="basicConstraints CA:TRUE, nameConstraints, certificatePolicies and a private extension are "
              "requested; all are discarded and logged, the certificate has its own basicConstraints cA FALSE",
         discarded_extensions=["2.5.29.19", "2.5.29.30", "2.5.29.32", "1.3.6.1.4.1.55555.1.1"])
    write_cnf("challenge.cnf", [("C", "US"), ("O", "Example Corp"), ("CN", "challenge.example.com")],
              [("challengePassword", "s3cret-Enrol-42"), ("unstructuredName", "Example Devices")])
    data, by = openssl_req("rsa:2048", None, config="challenge.cnf")
    emit(R("accept-challenge-password.csr"), data, "issued",
         made_by=by + "  (challenge.cnf: subject C=US, O=Example Corp, CN=challenge.example.com; "
                      "[req_attrs] challengePassword, unstructuredName)",
         note="challengePassword and unstructuredName attributes: ignored, not copied")

    # --- size boundary
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=size.example.com")
    filler = b"".join(b"# padding line %05d: text after the PEM block is allowed\n" % i for i in range(2000))
    body = data + b"\n" + filler
    emit(R("accept-size-65536.csr"), body[:65535] + b"\n", "issued",
         made_by=by + "; text padding appended to exactly 65536 bytes",
         note="exactly policy.max_csr_bytes (65536) bytes: still accepted")
    emit(R("reject-size-65537.csr"), body[:65536] + b"\n", "rejected", "tooLarge",
         made_by=by + "; text padding appended to 65537 bytes",
         note="one byte over policy.max_csr_bytes; otherwise the same valid request as accept-size-65536.csr")
    assert (REQ_DIR / "accept-size-65536.csr").stat().st_size == 65536
    assert (REQ_DIR / "reject-size-65537.csr").stat().st_size == 65537

    tmp_write("big.cnf", REQ_CNF_TEXT.replace("prompt = no\n", "prompt = no\nreq_extensions = ext\n")
              + "[ext]\nsubjectAltName = @san\n[san]\n"
              + "".join(f"DNS.{i} = host-{i:04d}.dc1.example.com\n" for i in range(1, 2201)))
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=host-0001.dc1.example.com", config="big.cnf")
    assert len(data) > 65536
    emit(R("reject-too-large.csr"), data, "rejected", "tooLarge",
         made_by=by + "  (big.cnf: subjectAltName with 2200 dNSNames)",
         note=f"a valid, correctly signed request of {len(data)} bytes (2200 dNSNames); over max_csr_bytes")
    add_entry(R("reject-too-large.csr"), "issued", made_by=by, policy={"max_csr_bytes": 131072},
              note="same file: accepted when policy.max_csr_bytes = 131072")

    # --- not a request / framing
    emit(R("reject-random-bytes.bin"), os.urandom(1024), "rejected", "unparseable",
         made_by="os.urandom(1024)", note="not a request at all")
    emit(R("reject-empty-file.csr"), b"", "rejected", "unparseable", made_by="empty file", note="zero bytes")
    run(["openssl", "req", "-x509", "-new", "-config", REQ_CNF, "-key", key("ec:P-256")[0],
         "-subj", "/CN=leaf.example.com", "-days", "30", "-out", "leaf.pem"])
    cert_by = "openssl req -x509 -new -key key.pem -subj /CN=leaf.example.com -days 30"
    emit(R("reject-certificate.pem"), tmp_read("leaf.pem"), "rejected", "unparseable", made_by=cert_by,
         note="a PEM certificate instead of a request (no request block)")
    emit(R("reject-certificate.der"), pem_to_der_cert(tmp_read("leaf.pem")), "rejected", "unparseable",
         made_by=cert_by + "; PEM decoded to DER", note="a DER certificate instead of a request")
    kf, kby = key("ec:P-256", tag="uploaded-by-mistake")
    emit(R("reject-private-key.pem"), tmp_read(kf), "rejected", "unparseable", made_by=kby,
         note="an appliance uploaded its private key instead of the request")
    d1, by1 = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=first.example.com")
    d2, _ = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=second.example.com")
    emit(R("reject-pem-two-requests.csr"), d1 + d2, "rejected", "unparseable",
         made_by=by1 + "; twice, concatenated", note="two request blocks in one PEM file")
    d3, by3 = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=two-labels.example.com", extra=["-newhdr"])
    emit(R("reject-pem-two-requests-mixed-labels.csr"), d1 + b"\n" + d3, "rejected", "unparseable",
         made_by=by3 + "; appended to another request", note="one CERTIFICATE REQUEST and one NEW CERTIFICATE REQUEST block")
    lines = d1.split(b"\n")
    lines[2] = lines[2][:10] + b"!!*!" + lines[2][14:]
    emit(R("reject-pem-bad-base64.csr"), b"\n".join(lines), "rejected", "unparseable",
         made_by=by1 + "; four characters of the body replaced by !!*!", note="PEM body is not valid base64")
    emit(R("reject-pem-truncated.csr"), b"\n".join(d1.split(b"\n")[:4]) + b"\n", "rejected", "unparseable",
         made_by=by1 + "; cut after three body lines", note="BEGIN line without END line (upload cut short)")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=trailing.example.com", outform="DER")
    emit(R("reject-der-trailing-garbage.der"), data + b"\x00\x01garbage", "rejected", "trailingData",
         made_by=by + "; 9 bytes appended", note="valid DER request followed by trailing bytes")
    emit(R("reject-pem-trailing-garbage.csr"), pem(data + b"\x05\x00"), "rejected", "trailingData",
         made_by=by + "; DER + 05 00, PEM-armoured", note="the PEM body decodes to the request followed by two bytes")

    # --- version
    p = load_key("rsa:2048")
    spki = spki_of("rsa:2048")
    data = sign_cri(cri(subject_name("version1.example.com"), spki, version=1), p)
    emit(R("reject-version-1.der"), data, "rejected", "unsupportedVersion",
         made_by="hand-built DER (make-fixtures.py), version INTEGER 1, signed sha256WithRSAEncryption "
                 "with a real RSA 2048 key", note="version 1 instead of 0; the self-signature is valid")

    # --- signatures
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=badsig.example.com", outform="DER")
    bad = bytearray(data)
    bad[-1] ^= 0x01
    emit(R("reject-bad-signature.csr"), pem(bytes(bad)), "rejected", "badSignature",
         made_by=by + "; last signature byte XOR 0x01, PEM-armoured", note="RSA signature does not verify")
    data, by = openssl_req("ed25519", "/C=US/O=Example Corp/CN=badsig-ed25519.example.com", digest=None,
                           outform="DER")
    bad = bytearray(data)
    bad[-10] ^= 0x80
    emit(R("reject-bad-signature-ed25519.der"), bytes(bad), "rejected", "badSignature",
         made_by=by + "; one signature byte flipped", note="Ed25519 signature does not verify")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=tampered.example.com", outform="DER")
    i = data.index(b"tampered.example.com")
    emit(R("reject-tampered-subject.der"), data[:i] + b"T" + data[i + 1:], "rejected", "badSignature",
         made_by=by + "; one subject byte changed after signing",
         note="CN changed from tampered.example.com to Tampered.example.com after signing")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=md5.example.com", digest="md5")
    emit(R("reject-md5.csr"), data, "rejected", "weakSignatureAlgorithm", made_by=by,
         note="md5WithRSAEncryption (openssl 3.0 still signs with MD5); the signature is valid")
    for alg_name, alg_oid in (("md4", OID_MD4_RSA), ("md2", OID_MD2_RSA)):
        c = cri(subject_name(f"{alg_name}.example.com"), spki_of("rsa:2048"))
        data = seq(c, seq(oid(alg_oid), null()), bit_string(garbage(256)))
        emit(R(f"reject-{alg_name}.der"), data, "rejected", "weakSignatureAlgorithm",
             made_by=f"hand-built DER (make-fixtures.py), signatureAlgorithm {alg_name}WithRSAEncryption "
                     f"({alg_oid}), 256 garbage signature bytes",
             note=f"{alg_name.upper()} is refused before the signature is checked")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=sha1.example.com", digest="sha1")
    emit(R("reject-sha1.csr"), data, "rejected", "weakSignatureAlgorithm", made_by=by,
         note="sha1WithRSAEncryption, refused by default")
    add_entry(R("reject-sha1.csr"), "issued", made_by=by, policy={"allow_sha1_csr_signature": True},
              note="same file: accepted when policy.allow_sha1_csr_signature = true")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/CN=ecdsa-sha1.example.com", digest="sha1")
    emit(R("reject-ecdsa-sha1.csr"), data, "rejected", "weakSignatureAlgorithm", made_by=by,
         note="ecdsa-with-SHA1, refused by default")
    add_entry(R("reject-ecdsa-sha1.csr"), "issued", made_by=by, policy={"allow_sha1_csr_signature": True},
              note="same file: accepted when policy.allow_sha1_csr_signature = true")

    # --- RSA keys
    data, by = openssl_req("rsa:1024", "/C=US/O=Example Corp/CN=rsa1024.example.com")
    emit(R("reject-rsa1024.csr"), data, "rejected", "rsaKeyTooSmall", made_by=by, note="RSA 1024, sha256")
    add_entry(R("reject-rsa1024.csr"), "issued", made_by=by, policy={"min_rsa_bits": 1024},
              note="same file: accepted when policy.min_rsa_bits = 1024")
    data, by = openssl_req("rsa:2047", "/C=US/O=Example Corp/CN=rsa2047.example.com")
    emit(R("reject-rsa2047.csr"), data, "rejected", "rsaKeyTooSmall", made_by=by,
         note="RSA with a 2047-bit modulus: one bit under the default minimum")
    n = int.from_bytes(os.urandom(16400 // 8), "big") | (1 << 16399) | 1
    big_spki = seq(seq(oid(OID_RSA), null()), bit_string(seq(integer(n), integer(65537))))
    data = seq(cri(subject_name("rsa16400.example.com"), big_spki), seq(oid(OID_SHA256_RSA), null()),
               bit_string(garbage(16400 // 8)))
    emit(R("reject-rsa16400.der"), data, "rejected", "rsaKeyTooLarge",
         made_by="hand-built DER (make-fixtures.py): rsaEncryption SPKI with a random odd 16400-bit modulus, "
                 "e = 65537, sha256WithRSAEncryption, garbage signature",
         note="key size is checked before the signature")
    real_n = load_key("rsa:2048").public_key().public_numbers().n
    for fname, e, note in (("reject-rsa-even-exponent.der", 65536, "public exponent 65536 (even)"),
                           ("reject-rsa-exponent-1.der", 1, "public exponent 1")):
        sp = seq(seq(oid(OID_RSA), null()), bit_string(seq(integer(real_n), integer(e))))
        data = seq(cri(subject_name(fname[7:-4] + ".example.com"), sp), seq(oid(OID_SHA256_RSA), null()),
                   bit_string(garbage(256)))
        emit(R(fname), data, "rejected", "rsaBadExponent",
             made_by="hand-built DER (make-fixtures.py): a real 2048-bit modulus with " + note +
                     ", garbage signature", note=note + "; checked before the signature")

    # --- EC keys
    for curve, fname, extra_note in (("secp256k1", "reject-secp256k1.csr", ""),
                                     ("P-224", "reject-p224.csr", ""),
                                     ("brainpoolP256r1", "reject-brainpoolp256r1.csr", "")):
        data, by = openssl_req(f"ec:{curve}", f"/C=US/O=Example Corp/CN={curve.lower()}.example.com")
        emit(R(fname), data, "rejected", "curveNotAllowed", made_by=by, note=f"named curve {curve}")
        if curve == "secp256k1":
            add_entry(R(fname), "issued", made_by=by,
                      policy={"allowed_curves": ["P-256", "P-384", "P-521", "secp256k1"]},
                      note="same file: accepted when secp256k1 is in policy.allowed_curves")
    add_entry(R("accept-p384.csr"), "rejected", "curveNotAllowed", policy={"allowed_curves": ["P-256"]},
              made_by=MANIFEST_ENTRIES[[e["file"] for e in MANIFEST_ENTRIES].index(R("accept-p384.csr"))]["made_by"],
              note="same file as the accepted P-384 request: refused when policy.allowed_curves = [\"P-256\"]")
    data, by = openssl_req("ec-explicit:prime256v1", "/C=US/O=Example Corp/CN=explicit.example.com")
    assert parse_csr(decode_input(data))["key_params_tag"] == 0x30
    emit(R("reject-explicit-curve.csr"), data, "rejected", "explicitCurveParameters", made_by=by,
         note="P-256 key with explicit ECParameters instead of the named-curve OID")

    # --- other key types
    data, by = openssl_req("dsa:2048", "/C=US/O=Example Corp/CN=dsa.example.com")
    emit(R("reject-dsa2048.csr"), data, "rejected", "keyTypeNotAllowed", made_by=by,
         note="DSA 2048 key, dsa_with_SHA256 signature (valid)")
    unk_spki = seq(seq(oid("1.3.6.1.4.1.55555.2.1"), null()), bit_string(garbage(64)))
    data = seq(cri(subject_name("unknown-key.example.com"), unk_spki), seq(oid(OID_SHA256_RSA), null()),
               bit_string(garbage(256)))
    emit(R("reject-unknown-key-algorithm.der"), data, "rejected", "keyTypeNotAllowed",
         made_by="hand-built DER (make-fixtures.py): SPKI algorithm 1.3.6.1.4.1.55555.2.1, garbage key and "
                 "signature", note="unknown key algorithm OID")
    data = seq(cri(subject_name("x25519.example.com"), spki_of("x25519")), seq(oid(OID_ED25519)),
               bit_string(garbage(64)))
    emit(R("reject-x25519-key.der"), data, "rejected", "keyTypeNotAllowed",
         made_by="hand-built DER (make-fixtures.py): a real X25519 SPKI (openssl genpkey -algorithm X25519), "
                 "Ed25519 signature algorithm, garbage signature",
         note="X25519 is a key-agreement key and cannot sign; refused as a key type")

    # --- extensions (hand-built, validly signed with a real P-256 key)
    p256 = load_key("ec:P-256")
    sp = spki_of("ec:P-256")

    def signed_with_exts(cn, *exts):
        return sign_cri(cri(subject_name(cn), sp, [ext_request(*exts)]), p256)

    hb = "hand-built DER (make-fixtures.py), ecdsa-with-SHA256 with a real P-256 key (valid signature): "
    data = signed_with_exts("dup-san.example.com",
                            extension(OID_SAN, seq(gn_dns("dup-san.example.com"))),
                            extension(OID_SAN, seq(gn_dns("other.example.com"))))
    emit(R("reject-duplicate-san.der"), data, "rejected", "duplicateExtension",
         made_by=hb + "two subjectAltName extensions", note="SAN requested twice")
    data = signed_with_exts("dup-bc.example.com",
                            extension(OID_SAN, seq(gn_dns("dup-bc.example.com"))),
                            extension(OID_BC, seq(), critical=True),
                            extension(OID_BC, seq(), critical=True))
    emit(R("reject-duplicate-basic-constraints.der"), data, "rejected", "duplicateExtension",
         made_by=hb + "two basicConstraints extensions",
         note="an extension that would be discarded anyway, requested twice: still a duplicate")
    data = signed_with_exts("bad-san.example.com", extension(OID_SAN, bytes.fromhex("3003820541")))
    emit(R("reject-malformed-san.der"), data, "rejected", "malformedExtension",
         made_by=hb + "SAN extnValue = 30 03 82 05 41", note="SAN value is not valid GeneralNames DER (truncated)")
    data = signed_with_exts("bad-san2.example.com",
                            extension(OID_SAN, seq(gn_dns("bad-san2.example.com")) + b"\x00\x00"))
    emit(R("reject-malformed-san-trailing-bytes.der"), data, "rejected", "malformedExtension",
         made_by=hb + "SAN extnValue = valid GeneralNames followed by 00 00",
         note="SAN value has trailing bytes after the GeneralNames")
    data = signed_with_exts("bad-ku.example.com", extension(OID_SAN, seq(gn_dns("bad-ku.example.com"))),
                            extension(OID_KU, integer(5), critical=True))
    emit(R("reject-malformed-ku.der"), data, "rejected", "malformedExtension",
         made_by=hb + "keyUsage extnValue = 02 01 05 (INTEGER)", note="keyUsage value is not a BIT STRING")
    data = signed_with_exts("bad-eku.example.com", extension(OID_SAN, seq(gn_dns("bad-eku.example.com"))),
                            extension(OID_EKU, seq(integer(1))))
    emit(R("reject-malformed-eku.der"), data, "rejected", "malformedExtension",
         made_by=hb + "extKeyUsage extnValue = 30 03 02 01 01 (SEQUENCE OF INTEGER)",
         note="EKU value is not a SEQUENCE OF OBJECT IDENTIFIER")

    # --- names nobody
    data, by = openssl_req("ec:P-256", "/")
    emit(R("reject-empty-subject-no-san.csr"), data, "rejected", "namesNobody", made_by=by,
         note="empty subject and no SAN")
    data, by = openssl_req("ec:P-256", "/", ["extendedKeyUsage=clientAuth", "keyUsage=critical,digitalSignature"])
    emit(R("reject-empty-subject-no-san-with-extensions.csr"), data, "rejected", "namesNobody", made_by=by,
         note="empty subject, KU and EKU but no SAN")


def pem_to_der_cert(data):
    body = data.split(b"-----BEGIN CERTIFICATE-----", 1)[1].split(b"-----END CERTIFICATE-----", 1)[0]
    return base64.b64decode(b"".join(body.split()))


# ---------------------------------------------------------------------------
# corpus/


def C(name):
    return f"corpus/{name}"


def make_corpus():
    CORPUS_DIR.mkdir(parents=True)

    # Java keytool
    def keytool(alias, genargs, reqargs, dname, out):
        ks = ["-keystore", "ks.p12", "-storetype", "PKCS12", "-storepass", "changeit"]
        gen = ["keytool", "-genkeypair", "-alias", alias, *genargs, "-dname", dname, "-validity", "365"]
        req = ["keytool", "-certreq", "-alias", alias, *reqargs, "-file", out]
        run(gen + ks)
        run(req + ks)
        return tmp_read(out), f"{shlex.join(gen)} -keystore ks.p12 ...; {shlex.join(req)} -keystore ks.p12 ..."

    if (TMP / "ks.p12").exists():
        (TMP / "ks.p12").unlink()
    data, by = keytool("tomcat", ["-keyalg", "RSA", "-keysize", "2048"], ["-ext", "SAN=dns:tomcat.example.com"],
                       "CN=tomcat.example.com, OU=Web, O=Example Corp, L=Springfield, ST=IL, C=US", "tomcat.csr")
    assert data.startswith(b"-----BEGIN NEW CERTIFICATE REQUEST-----")
    emit(C("keytool-rsa2048.csr"), data, "issued", made_by=by,
         note="Java 17 keytool: NEW CERTIFICATE REQUEST label, SHA256withRSA, requests SKI (discarded) and SAN")
    data, by = keytool("jetty", ["-keyalg", "EC", "-groupname", "secp256r1"],
                       ["-ext", "SAN=dns:jetty.example.com,ip:192.0.2.30", "-ext", "EKU=serverAuth"],
                       "CN=jetty.example.com, O=Example Corp, C=US", "jetty.csr")
    emit(C("keytool-p256.csr"), data, "issued", made_by=by,
         note="Java 17 keytool, EC P-256, SHA256withECDSA, SAN dNSName+iPAddress, EKU serverAuth")
    data, by = keytool("legacy", ["-keyalg", "DSA", "-keysize", "1024", "-sigalg", "SHA1withDSA"],
                       ["-sigalg", "SHA1withDSA"], "CN=legacy-app.example.com, O=Example Corp, C=US", "legacy.csr")
    emit(C("keytool-dsa1024-sha1.csr"), data, "rejected", "keyTypeNotAllowed", made_by=by,
         note="what keytool made by default before Java 7 (DSA 1024, SHA1withDSA); two defects: the key is "
              "checked before the signature, so the DSA key is what is refused")
    add_entry(C("keytool-dsa1024-sha1.csr"), "rejected", "keyTypeNotAllowed", made_by=by,
              policy={"allow_sha1_csr_signature": True}, note="with SHA-1 allowed, the DSA key is refused")

    # Windows certreq-style
    k = load_key("rsa:2048")
    subj = name(("2.5.4.6", printable("US")), ("2.5.4.8", printable("Washington")),
                ("2.5.4.7", printable("Redmond")), ("2.5.4.10", printable("Contoso Ltd")),
                ("2.5.4.11", printable("IT")), ("2.5.4.3", printable("web01.corp.contoso.example")))
    spk = spki_of("rsa:2048")
    ski = x509.SubjectKeyIdentifier.from_public_key(k.public_key()).digest
    attrs = [
        seq(oid("1.3.6.1.4.1.311.13.2.3"), set_of(ia5("10.0.20348.2"))),
        seq(oid("1.3.6.1.4.1.311.21.20"), set_of(seq(integer(5), utf8("WEB01.corp.contoso.example"),
                                                     utf8("CONTOSO\\svc-web"), utf8("certreq.exe")))),
        seq(oid("1.3.6.1.4.1.311.13.2.2"), set_of(seq(integer(1),
                                                      bmp("Microsoft RSA SChannel Cryptographic Provider"),
                                                      bit_string(b"")))),
        ext_request(
            extension("1.3.6.1.4.1.311.20.2", bmp("WebServer")),
            extension(OID_EKU, seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))),
            extension(OID_KU, bit_string(b"\xa0", 5), critical=True),
            extension(OID_SAN, seq(gn_dns("web01.corp.contoso.example"), gn_dns("web.contoso.example"))),
            extension(OID_SKI, octet_string(ski)),
        ),
    ]
    der = sign_cri(cri(subj, spk, attrs), k)
    emit(C("windows-certreq.csr"), pem(der, "NEW CERTIFICATE REQUEST", "\r\n"), "issued",
         made_by="hand-built DER (make-fixtures.py) after certreq.exe -new output: attributes OS version "
                 "(1.3.6.1.4.1.311.13.2.3), ClientInformation (1.3.6.1.4.1.311.21.20), EnrollmentCSPInfo "
                 "(1.3.6.1.4.1.311.13.2.2), extensionRequest (template name, EKU, KU critical, SAN, SKI); "
                 "signed with a real RSA 2048 key; PEM with NEW CERTIFICATE REQUEST label and CRLF",
         note="Windows attributes are ignored; template name and SKI extensions are discarded",
         ku=["digitalSignature", "keyEncipherment"],
         discarded_extensions=["1.3.6.1.4.1.311.20.2", "2.5.29.14"])

    # FreeIPA-style otherName SANs
    tmp_write("ipa.cnf", """\
[req]
distinguished_name = req_dn
prompt = no
string_mask = utf8only
req_extensions = ext
[req_dn]
O = IPA.EXAMPLE.TEST
CN = client1.ipa.example.test
[ext]
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = @san
[san]
DNS.1 = client1.ipa.example.test
otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:host/client1.ipa.example.test@IPA.EXAMPLE.TEST
otherName.2 = 1.3.6.1.5.2.2;SEQUENCE:krb5_princ
[krb5_princ]
realm = EXPLICIT:0,GENERALSTRING:IPA.EXAMPLE.TEST
principal_name = EXPLICIT:1,SEQUENCE:krb5_principal_name
[krb5_principal_name]
name_type = EXPLICIT:0,INTEGER:3
name_string = EXPLICIT:1,SEQUENCE:krb5_name_strings
[krb5_name_strings]
part1 = GENERALSTRING:host
part2 = GENERALSTRING:client1.ipa.example.test
""")
    kf, kby = key("rsa:2048")
    run(["openssl", "req", "-new", "-config", "ipa.cnf", "-key", kf, "-sha256", "-out", "ipa.csr"])
    emit(C("freeipa-othername.csr"), tmp_read("ipa.csr"), "issued",
         made_by=kby + "; openssl req -new -config ipa.cnf -key key.pem -sha256  (ipa.cnf: SAN with dNSName, "
                       "otherName UPN 1.3.6.1.4.1.311.20.2.3 and KRB5PrincipalName 1.3.6.1.5.2.2, as in the "
                       "FreeIPA docs)",
         note="otherName SANs carried over byte for byte",
         ku=["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment"])

    # SCEP-style challengePassword
    write_cnf("scep.cnf", [("CN", "device-0042.example.com")], [("challengePassword", "7F3A-91C2-55D0-E8B4")],
              [("subjectAltName", "DNS:device-0042.example.com"),
               ("keyUsage", "critical, digitalSignature, keyEncipherment")], string_mask="default")
    data, by = openssl_req("rsa:2048", None, config="scep.cnf")
    emit(C("scep-challenge-password.csr"), data, "issued",
         made_by=by + "  (scep.cnf: subject CN=device-0042.example.com, string_mask default, "
                      "challengePassword attribute, SAN, KU)",
         note="SCEP-style enrolment request with a one-time challengePassword; PrintableString subject",
         ku=["digitalSignature", "keyEncipherment"])

    # odd subjects
    NA, RDN = x509.NameAttribute, x509.RelativeDistinguishedName
    subj = x509.Name([
        RDN([NA(NameOID.COUNTRY_NAME, "DE", _type=_ASN1Type.PrintableString)]),
        RDN([NA(NameOID.STATE_OR_PROVINCE_NAME, "Bayern", _type=_ASN1Type.UTF8String)]),
        RDN([NA(NameOID.ORGANIZATION_NAME, "Example Industrieanlagen GmbH", _type=_ASN1Type.T61String)]),
        RDN([NA(NameOID.ORGANIZATIONAL_UNIT_NAME, "Gerätebau", _type=_ASN1Type.BMPString)]),
        RDN([NA(NameOID.SERIAL_NUMBER, "SN-000042", _type=_ASN1Type.PrintableString)]),
        RDN([NA(NameOID.COMMON_NAME, "sensor-12.example.de", _type=_ASN1Type.PrintableString)]),
        RDN([NA(NameOID.EMAIL_ADDRESS, "ops@example.de", _type=_ASN1Type.IA5String)]),
    ])
    k = load_key("ec:P-256")
    csr = (x509.CertificateSigningRequestBuilder().subject_name(subj)
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("sensor-12.example.de"),
                                                       x509.RFC822Name("ops@example.de")]), critical=False)
           .sign(k, hashes.SHA256()))
    emit(C("subject-string-types.csr"), csr.public_bytes(serialization.Encoding.PEM), "issued",
         made_by="python cryptography CertificateSigningRequestBuilder, P-256, SHA-256; subject with "
                 "PrintableString C/serialNumber/CN, UTF8String ST, TeletexString O, BMPString OU, "
                 "IA5String emailAddress",
         note="the subject must be copied byte for byte, string types included (the emailAddress is "
              "repeated as an rfc822Name SAN, as RFC 5280 4.1.2.6 wants)")
    data, by = openssl_req("ec:P-256", "/C=US/O=Example Corp/OU=Plant 3+CN=plc-07.example.com+UID=plc07",
                           ["subjectAltName=DNS:plc-07.example.com"], extra=["-multivalue-rdn"])
    emit(C("subject-multivalued-rdn.csr"), data, "issued", made_by=by,
         note="last RDN is multi-valued (OU + CN + UID)")
    data, by = openssl_req("rsa:2048", "/CN=cam-3.example.com/OU=Security/O=Example Corp/L=Springfield/C=US",
                           ["subjectAltName=DNS:cam-3.example.com"])
    emit(C("subject-reversed-order.csr"), data, "issued", made_by=by,
         note="RDNs in reverse order (CN first, C last), as some appliances send them")

    # OpenSSL with the distribution's default config, answering the prompts
    kf, kby = key("rsa:2048")
    env_args = ["openssl", "req", "-new", "-key", kf, "-sha256", "-out", "default.csr"]
    answers = b"US\nCalifornia\nSan Jose\nExample Devices Inc\n.\nnas01.example.com\nadmin@example.com\n\n\n"
    r = subprocess.run(env_args, cwd=TMP, input=answers, capture_output=True,
                       env={k_: v for k_, v in os.environ.items() if k_ != "OPENSSL_CONF"})
    assert r.returncode == 0, r.stderr
    emit(C("openssl-default-config.csr"), tmp_read("default.csr"), "issued",
         made_by=kby + "; openssl req -new -key key.pem -sha256 with the distribution's openssl.cnf, prompts "
                       "answered: US / California / San Jose / Example Devices Inc / . / nas01.example.com / "
                       "admin@example.com / (no challenge password)",
         note="typical hand-made request: emailAddress in the subject, no extensions. RFC 5280 4.1.2.6 wants "
              "the address as an rfc822Name SAN too (pkilint: pkix.subject_email_address_not_in_san), so dropca "
              "adds one and keeps the subject byte for byte",
         subject_email_addresses=["admin@example.com"])

    # GnuTLS certtool
    for label, keyargs, tmpl_extra, ku_want in (
            ("rsa", ["--key-type", "rsa", "--bits", "2048"], "", ["digitalSignature", "keyEncipherment"]),
            ("p256", ["--key-type", "ecdsa", "--curve", "secp256r1"], "", ["digitalSignature"])):
        run(["certtool", "--generate-privkey", *keyargs, "--outfile", f"gnutls-{label}.key"])
        tmp_write(f"gnutls-{label}.tmpl", f"""\
cn = "printer-{label}.example.com"
organization = "Example Corp"
unit = "Facilities"
country = US
dns_name = "printer-{label}.example.com"
ip_address = "192.0.2.20"
tls_www_server
signing_key
encryption_key
{tmpl_extra}""")
        run(["certtool", "--generate-request", "--load-privkey", f"gnutls-{label}.key",
             "--template", f"gnutls-{label}.tmpl", "--outfile", f"gnutls-{label}.csr"])
        emit(C(f"gnutls-certtool-{label}.csr"), tmp_read(f"gnutls-{label}.csr"), "issued",
             made_by=f"certtool --generate-privkey {' '.join(keyargs)} --outfile key.pem; certtool "
                     f"--generate-request --load-privkey key.pem --template t.tmpl (cn, organization, unit, "
                     f"country, dns_name, ip_address, tls_www_server, signing_key, encryption_key)",
             note="certtool writes its text dump before the PEM block; requests basicConstraints CA:FALSE "
                  "(discarded), KU critical, EKU critical serverAuth" +
                  ("; certtool itself drops keyEncipherment for the EC key" if label == "p256" else ""),
             ku=ku_want)

    # firewall / printer appliance: CN is an IP address
    tmp_write("appliance.cnf", REQ_CNF_TEXT.replace("string_mask = utf8only\nutf8 = yes\n", "string_mask = default\n"))
    data, by = openssl_req("rsa:2048", "/C=US/ST=California/L=Sunnyvale/O=Example Networks/OU=Firewall/"
                                       "CN=192.0.2.1",
                           ["subjectAltName=IP:192.0.2.1"], config="appliance.cnf")
    emit(C("firewall-ip-cn.csr"), data, "issued", made_by=by + "  (string_mask = default: PrintableString)",
         note="typical firewall web-UI request: RSA 2048, CN is the management IP, SAN iPAddress only")
    write_cnf("router.cnf", [("unstructuredName", "rtr-edge-1.example.com"), ("serialNumber", "FTX1234A5BC")],
              [("challengePassword", "rtr-otp-5521"), ("unstructuredName", "rtr-edge-1.example.com")],
              [("keyUsage", "critical, digitalSignature, keyEncipherment")], string_mask="default")
    data, by = openssl_req("rsa:2048", None, config="router.cnf")
    emit(C("router-unstructuredname.csr"), data, "issued",
         made_by=by + "  (router.cnf: subject unstructuredName=rtr-edge-1.example.com + serialNumber=FTX1234A5BC, "
                      "string_mask default; challengePassword + unstructuredName attributes; KU)",
         note="router-style request: subject is unstructuredName + serialNumber only (no CN), no SAN",
         ku=["digitalSignature", "keyEncipherment"])
    data, by = openssl_req("ed25519", "/O=Example Corp/CN=edge-node-9.example.com",
                           ["subjectAltName=DNS:edge-node-9.example.com", "extendedKeyUsage=clientAuth"], digest=None)
    emit(C("openssl-ed25519.csr"), data, "issued", made_by=by, note="Ed25519 client request from openssl")

    # realistic rejects
    tmp_write("old.cnf", REQ_CNF_TEXT.replace("string_mask = utf8only\nutf8 = yes\n", "string_mask = default\n"))
    data, by = openssl_req("rsa:1024", "/C=US/O=Example Corp/OU=Building Automation/CN=bms-controller-2",
                           digest="sha1", config="old.cnf")
    by += "  (old.cnf: string_mask default, so PrintableString)"
    emit(C("old-appliance-rsa1024-sha1.csr"), data, "rejected", "rsaKeyTooSmall", made_by=by,
         note="an old appliance's RSA 1024 / SHA-1 request; two defects: the key is checked before the "
              "signature, so the 1024-bit key is what is refused")
    add_entry(C("old-appliance-rsa1024-sha1.csr"), "rejected", "weakSignatureAlgorithm", made_by=by,
              policy={"min_rsa_bits": 1024}, note="with 1024-bit keys allowed, the SHA-1 signature is refused")
    add_entry(C("old-appliance-rsa1024-sha1.csr"), "issued", made_by=by,
              policy={"allow_sha1_csr_signature": True, "min_rsa_bits": 1024},
              note="both relaxed: accepted")
    data, by = openssl_req("rsa:2048", "/C=US/O=Example Corp/CN=upload.example.com")
    emit(C("truncated-upload.csr"), data[:len(data) // 2], "rejected", "unparseable",
         made_by=by + "; first half of the file only", note="an SFTP upload cut off halfway (no END line)")


# ---------------------------------------------------------------------------
# Self-check


def openssl_verifies():
    """openssl 3.0 `req -verify` exits 0 even when the signature does not verify: read its message."""
    r = subprocess.run(["openssl", "req", "-verify", "-noout", "-inform", "DER", "-in", "check.der"],
                       cwd=TMP, capture_output=True)
    out = r.stdout + r.stderr
    return r.returncode == 0 and b"verify OK" in out and b"verify failure" not in out


def self_check():
    problems = []
    for e in MANIFEST_ENTRIES:
        path = HERE / e["file"]
        raw = path.read_bytes()
        if e["expect"] == "issued":
            der = decode_input(raw)
            tmp_write("check.der", der)
            if not openssl_verifies():
                problems.append(f"{e['file']}: openssl req -verify failed")
            info = parse_csr(der)
            if info["version"] != 0 or len(raw) > e.get("policy", {}).get("max_csr_bytes", 65536):
                problems.append(f"{e['file']}: not a v1 request within the size limit")
            if info["subject_empty"] and not any(x[0] == OID_SAN for x in info["exts"]):
                problems.append(f"{e['file']}: names nobody")
            oids = [x[0] for x in info["exts"]]
            if len(set(oids)) != len(oids):
                problems.append(f"{e['file']}: duplicate extension")
        elif e["code"] not in ("unparseable", "trailingData") and len(raw) <= 65536 or e["code"] == "tooLarge":
            # A rejected request carries a valid self-signature unless the signature is the
            # defect, or it was hand-built with garbage signature bytes (said in made_by).
            tmp_write("check.der", decode_input(raw))
            should_verify = e["code"] != "badSignature" and "garbage" not in e["made_by"]
            if openssl_verifies() != should_verify:
                problems.append(f"{e['file']}: openssl req -verify expected to "
                                f"{'succeed' if should_verify else 'fail'}")
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        raise SystemExit(1)


def main():
    global TMP
    for d in (CA_DIR, REQ_DIR, CORPUS_DIR):
        if d.exists():
            shutil.rmtree(d)
    with tempfile.TemporaryDirectory(prefix="dropca-fixtures-") as t:
        TMP = Path(t)
        tmp_write(REQ_CNF, REQ_CNF_TEXT)
        make_ca()
        make_requests()
        make_corpus()
        self_check()
    MANIFEST.write_text(json.dumps(MANIFEST_ENTRIES, indent=2, ensure_ascii=False) + "\n")
    n_files = len({e["file"] for e in MANIFEST_ENTRIES})
    print(f"wrote {len(MANIFEST_ENTRIES)} manifest entries for {n_files} request files, "
          f"{len(list(CA_DIR.iterdir()))} CA files")


if __name__ == "__main__":
    main()
