"""An independent implementation of the sm2-jcs-2026 cryptosuite over PyPI gmssl 3.2.2, for
the tests: it shares no code with yiwang.

    python3 independent_sm2.py keygen            -> {"private_key": hex, "jwk": {...}}
    python3 independent_sm2.py verify  < {"credential": {...}, "jwk": {...}}   -> {"ok": bool}
    python3 independent_sm2.py sign    < {"unsecured": {...}, "options": {...}, "private_key": hex}
                                                   -> the credential with its proof

JCS (RFC 8785) here is json.dumps with sorted keys and no spaces: the same bytes as RFC 8785 for
documents whose keys are ASCII and whose numbers are integers, which is what the tests sign.
"""
import base64
import binascii
import json
import secrets
import sys

from gmssl import sm2, sm3, func

N = int(sm2.default_ecc_table["n"], 16)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def jcs(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sm3_bytes(b):
    return binascii.a2b_hex(sm3.sm3_hash(func.bytes_to_list(b)))


def hash_data(options, unsecured):
    return sm3_bytes(jcs(options)) + sm3_bytes(jcs(unsecured))


def b58encode(b):
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out


def b58decode(s):
    n = 0
    for ch in s:
        n = n * 58 + B58.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + body


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def crypt(private_key, jwk):
    public = (unb64u(jwk["x"]) + unb64u(jwk["y"])).hex()
    c = sm2.CryptSM2(private_key=private_key, public_key=public)
    # The constructor strips a leading "04" with lstrip, which also eats a 0 or 4 that begins X:
    # set the key after construction.
    c.public_key = public
    return c


def keygen():
    d = secrets.randbelow(N - 2) + 1
    private = "%064x" % d
    c = sm2.CryptSM2(private_key=private, public_key="")
    xy = c._kg(d, sm2.default_ecc_table["g"])
    xy = xy.rjust(128, "0")
    jwk = {"kty": "EC", "crv": "SM2", "x": b64u(bytes.fromhex(xy[:64])), "y": b64u(bytes.fromhex(xy[64:]))}
    return {"private_key": private, "jwk": jwk}


def verify(credential, jwk):
    proof = dict(credential["proof"])
    value = proof.pop("proofValue")
    assert value.startswith("z")
    sig = b58decode(value[1:])
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    c = crypt(None, jwk)
    return bool(c.verify_with_sm3(sig.hex(), hash_data(proof, unsecured)))


def sign(unsecured, options, private_key, jwk):
    c = crypt(private_key, jwk)
    sig = None
    while sig is None:
        sig = c.sign_with_sm3(hash_data(options, unsecured), func.random_hex(c.para_len))
    proof = dict(options)
    proof["proofValue"] = "z" + b58encode(bytes.fromhex(sig))
    out = dict(unsecured)
    out["proof"] = proof
    return out


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "keygen":
        print(json.dumps(keygen()))
    else:
        req = json.load(sys.stdin)
        if cmd == "verify":
            print(json.dumps({"ok": verify(req["credential"], req["jwk"])}))
        elif cmd == "sign":
            print(json.dumps(sign(req["unsecured"], req["options"], req["private_key"], req["jwk"]), ensure_ascii=False))
