//! Our sealed values checked against an independent SM3/SM4 implementation: Python `gmssl`
//! derives the keys from the key file, checks the HMAC-SM3 tag and decrypts the SM4-CTR
//! ciphertext of a value `kernel::sealed` wrote (the layout documented in that module).

use kernel::sealed::Sealer;

const SCRIPT: &str = r#"
import base64, sys
from gmssl import sm3, func
from gmssl.sm4 import CryptSM4, SM4_ENCRYPT

def sm3b(data):
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))

def hmac_sm3(key, msg):
    if len(key) > 64:
        key = sm3b(key)
    key = key.ljust(64, b"\0")
    inner = sm3b(bytes(k ^ 0x36 for k in key) + msg)
    return sm3b(bytes(k ^ 0x5C for k in key) + inner)

master = bytes.fromhex(open(sys.argv[1]).read().strip())
enc = hmac_sm3(master, b"yiwang sealed v1 enc")[:16]
mac = hmac_sm3(master, b"yiwang sealed v1 mac")
idx = hmac_sm3(master, b"yiwang sealed v1 index")
for line in sys.stdin.read().split():
    value, index = line.split("|")
    assert value.startswith("sm4:1:"), value
    raw = base64.b64decode(value[len("sm4:1:"):])
    iv, ct, tag = raw[:16], raw[16:-32], raw[-32:]
    assert hmac_sm3(mac, b"sm4:1:" + iv + ct) == tag, "tag"
    c = CryptSM4()
    c.set_key(enc, SM4_ENCRYPT)
    n = int.from_bytes(iv, "big")
    stream = b""
    while len(stream) < len(ct):
        block = ((n + len(stream) // 16) % (1 << 128)).to_bytes(16, "big")
        stream += bytes(c.crypt_ecb(block))[:16]
    plain = bytes(a ^ b for a, b in zip(ct, stream)).decode()
    assert hmac_sm3(idx, plain.strip().upper().encode()).hex() == index, "index"
    print(plain)
"#;

#[test]
fn gmssl_opens_what_we_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("data.key");
    let (s, made) = Sealer::load_or_create(&key).unwrap();
    assert!(made);
    let values = [
        "11010519491231002X",
        "13800138000",
        "0731-88886666 转 12，长一点的联系方式",
    ];
    let input: String = values
        .iter()
        .map(|v| format!("{}|{}\n", s.seal(v).unwrap(), s.index(v).unwrap().unwrap()))
        .collect();
    let script = dir.path().join("open.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let mut child = std::process::Command::new("python3")
        .arg(&script)
        .arg(&key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with gmssl (pip install gmssl)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gmssl refused our values: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines, values);
}
