use std::process::Command;

use super::*;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A self-signed certificate and key made with the openssl command: (cert PEM, key PEM).
fn self_signed(dir: &std::path::Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    (std::fs::read_to_string(cert).unwrap(), std::fs::read_to_string(key).unwrap())
}

#[test]
fn parses_kafka_connect_listeners() {
    let l = Listener::parse("http://:8083").unwrap();
    assert_eq!((l.https, l.host.as_str(), l.port), (false, "0.0.0.0", 8083));
    let l = Listener::parse("HTTPS://localhost:8443/").unwrap();
    assert_eq!((l.https, l.host.as_str(), l.port), (true, "127.0.0.1", 8443));
    let l = Listener::parse("https://[::1]:0").unwrap();
    assert_eq!((l.host.as_str(), l.host_port()), ("::1", "[::1]:0".to_owned()));
    assert_eq!(Listener::parse("http://connect.example:8083").unwrap().host, "connect.example");
    for (bad, why) in [
        ("ftp://h:1", "must start with http:// or https://"),
        ("http://h", "has no port"),
        ("http://h:99999", "no valid port"),
        ("http://u@h:1", "path or user"),
    ] {
        let e = Listener::parse(bad).unwrap_err().to_string();
        assert!(e.contains("'listeners'") && e.contains(why), "{bad}: {e}");
    }
    let all = parse_all(&["http://:1".into(), " ".into(), "https://:2".into()]).unwrap();
    assert_eq!(all.len(), 2);
}

#[test]
fn pem_keystore_inline_or_file_prefixed_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    // Inline, joined on one line as a properties continuation would.
    let one_line = |s: &str| s.replace('\n', " ");
    server_tls(&props(&[
        ("ssl.keystore.type", "PEM"),
        ("ssl.keystore.certificate.chain", &one_line(&cert)),
        ("ssl.keystore.key", &one_line(&key)),
    ]))
    .unwrap();
    let both = dir.path().join("keystore.pem");
    std::fs::write(&both, format!("{key}{cert}")).unwrap();
    let location = both.display().to_string();
    server_tls(&props(&[("listeners.https.ssl.keystore.location", &location)])).unwrap();
    // All or nothing: a prefixed key hides every unprefixed one.
    let e = server_tls(&props(&[
        ("ssl.keystore.location", &location),
        ("listeners.https.ssl.enabled.protocols", "TLSv1.3"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(e.contains("listeners.https.ssl.keystore.location"), "{e}");
}

#[test]
fn unsupported_keystores_and_bad_keys_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let e = server_tls(&props(&[("ssl.keystore.type", "JKS"), ("ssl.keystore.location", "/x.jks")])).unwrap_err();
    assert!(e.to_string().contains("'ssl.keystore.type'") && e.to_string().contains("openssl pkcs12"), "{e}");
    let e = server_tls(&props(&[("listeners.https.ssl.keystore.key", &key)])).unwrap_err();
    assert!(e.to_string().contains("listeners.https.ssl.keystore.certificate.chain"), "{e}");
    let e = server_tls(&props(&[("ssl.keystore.location", "/no/such.pem")])).unwrap_err();
    assert!(e.to_string().contains("cannot read PEM keystore /no/such.pem"), "{e}");
    let e = server_tls(&BTreeMap::new()).unwrap_err();
    assert!(e.to_string().contains("needs a key and certificate"), "{e}");
    let enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let e = server_tls(&props(&[("ssl.keystore.certificate.chain", &cert), ("ssl.keystore.key", enc)])).unwrap_err();
    assert!(e.to_string().contains("encrypted private keys are not supported"), "{e}");
    let other = tempfile::tempdir().unwrap();
    let (_, other_key) = self_signed(other.path());
    let e =
        server_tls(&props(&[("ssl.keystore.certificate.chain", &cert), ("ssl.keystore.key", &other_key)])).unwrap_err();
    assert!(e.to_string().contains("do not fit together"), "{e}");
    let e = server_tls(&props(&[
        ("ssl.keystore.certificate.chain", &cert),
        ("ssl.keystore.key", &key),
        ("ssl.enabled.protocols", "TLSv1.1"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("'ssl.enabled.protocols'"), "{e}");
    let e = server_tls(&props(&[
        ("ssl.keystore.certificate.chain", &cert),
        ("ssl.keystore.key", &key),
        ("ssl.client.auth", "required"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("ssl.truststore.location"), "{e}");
    server_tls(&props(&[
        ("ssl.keystore.certificate.chain", &cert),
        ("ssl.keystore.key", &key),
        ("ssl.client.auth", "requested"),
        ("ssl.truststore.certificates", &cert),
    ]))
    .unwrap();
}

#[test]
fn pem_blocks_get_their_lines_back() {
    let joined = "junk -----BEGIN CERTIFICATE----- AAAA BBBB\tCCCC -----END CERTIFICATE----- tail";
    assert_eq!(normalize_pem(joined), "-----BEGIN CERTIFICATE-----\nAAAABBBBCCCC\n-----END CERTIFICATE-----\n");
    assert_eq!(normalize_pem("no pem here"), "");
}
