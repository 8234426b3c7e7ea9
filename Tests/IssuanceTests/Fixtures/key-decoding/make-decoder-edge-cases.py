# Writes the five key-decoding requests whose subject keys dropca decodes without
# OpenSSL's SubjectPublicKeyInfo decoder (RSA, Ed25519, Ed448). Run from the Fixtures folder,
# with the Python that scripts/setup gives `cryptography` (or any that has it):
#   ../../../.build/checkers-venv/bin/python3 key-decoding/make-decoder-edge-cases.py
# Keys are fresh on every run; the outcomes do not depend on them.
import importlib.util
spec = importlib.util.spec_from_file_location("mf", "make-fixtures.py")
mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)
from cryptography.hazmat.primitives.asymmetric import rsa, ed25519
subject = mf.name  # helper
def rdn_cn(cn):
    return mf.set_of(mf.seq(mf.oid("2.5.4.3"), mf.utf8(cn)))
def request(spki, priv, cn):
    cri = mf.seq(mf.integer(0), mf.seq(rdn_cn(cn)), spki, mf.ctx(0, b""))
    return mf.sign_cri(cri, priv)
rsa_alg = mf.seq(mf.oid("1.2.840.113549.1.1.1"), mf.null())
priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
n = priv.public_key().public_numbers().n
n_bytes = n.to_bytes(256, "big")
assert n_bytes[0] & 0x80
negative_n = mf.tlv(0x02, n_bytes)          # no leading 00: a negative INTEGER
e_der = mf.integer(65537)
n_der = mf.integer(n)
out = {}
out["rsa-negative-modulus.der"] = request(mf.seq(rsa_alg, mf.bit_string(mf.seq(negative_n, e_der))), priv, "negative-modulus.example.com")
out["rsa-public-key-indefinite-length.der"] = request(mf.seq(rsa_alg, mf.bit_string(b"\x30\x80" + n_der + e_der + b"\x00\x00")), priv, "ber-key.example.com")
out["rsa-public-key-extra-integer.der"] = request(mf.seq(rsa_alg, mf.bit_string(mf.seq(n_der, e_der, mf.integer(1)))), priv, "extra-integer.example.com")
ed = ed25519.Ed25519PrivateKey.generate()
from cryptography.hazmat.primitives import serialization
raw = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
out["ed25519-key-with-parameters.der"] = request(mf.seq(mf.seq(mf.oid("1.3.101.112"), mf.null()), mf.bit_string(raw)), ed, "ed-params.example.com")
out["ed25519-short-key.der"] = request(mf.seq(mf.seq(mf.oid("1.3.101.112")), mf.bit_string(raw[:31])), ed, "ed-short.example.com")
for k, v in out.items():
    open("key-decoding/" + k, "wb").write(v)
