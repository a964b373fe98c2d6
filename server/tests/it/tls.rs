//! HTTPS served directly (`--tls-cert`, `--tls-key`) and behind a trusted proxy
//! (`--trusted-proxy`): the session cookie is `Secure` exactly when the client used TLS, and the
//! audit trail names the client, not the proxy.

use crate::common::{self, ADMIN_PASSWORD, KillOnDrop};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn openssl(args: &[&str], dir: &Path) {
    let made = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
}

/// A test CA (`ca.pem`) and a certificate it signed for localhost and 127.0.0.1 (`cert.pem`,
/// `key.pem`), made by Debian's openssl.
fn certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca = [
        &["req", "-x509"][..],
        &ec,
        &[
            "-days",
            "1",
            "-subj",
            "/CN=drydock-test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    ]
    .concat();
    openssl(&ca, dir);
    let csr = [
        &["req"][..],
        &ec,
        &[
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
        ],
    ]
    .concat();
    openssl(&csr, dir);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ],
        dir,
    );
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

/// `drydock serve` with sign-in on and `args`; returns once `base` answers.
async fn serve(
    port: u16,
    args: &[&str],
    client: &reqwest::Client,
    base: &str,
) -> (KillOnDrop, common::TempDb) {
    let db = common::temp_db();
    let server = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--auth",
            "builtin",
        ])
        .args(["--admin-password", ADMIN_PASSWORD, "--database-url"])
        .arg(&*db)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(KillOnDrop)
        .unwrap();
    let mut last = String::new();
    for _ in 0..600 {
        match client.get(format!("{base}/api/v1/me")).send().await {
            Ok(_) => return (server, db),
            Err(error) => last = format!("{error:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up at {base}: {last}");
}

async fn as_admin(client: &reqwest::Client, url: &str) -> Value {
    let reply = client
        .get(url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    serde_json::from_str(&reply.text().await.unwrap()).unwrap()
}

async fn sign_in(client: &reqwest::Client, base: &str, headers: &[(&str, &str)]) -> String {
    let mut request = client
        .post(format!("{base}/auth/login"))
        .header("content-type", "application/json")
        .body(json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let reply = request.send().await.unwrap();
    assert_eq!(reply.status(), 200);
    reply.headers()["set-cookie"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn https_is_served_with_the_given_certificate_and_the_cookie_is_secure() {
    let dir = common::temp_dir("tls-cert");
    let (ca, cert, key) = certificates(&dir);
    let trusted = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let port = common::free_port();
    let client = reqwest::Client::builder()
        .add_root_certificate(trusted)
        // `localhost` may resolve to ::1 first; the server listens on 127.0.0.1.
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let (_server, _db) = serve(
        port,
        &["--tls-cert", cert, "--tls-key", key],
        &client,
        &base,
    )
    .await;

    let cookie = sign_in(&client, &base, &[]).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let me = as_admin(&client, &format!("{base}/api/v1/me")).await;
    assert_eq!(me["name"], "admin");
    // Plain HTTP to the HTTPS port gets no answer.
    assert!(common::http(port, "GET", "/api/v1/me", None).is_err());
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_and_its_scheme_come_from_the_proxy() {
    let client = reqwest::Client::new();
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (_server, _db) = serve(port, &["--trusted-proxy", "127.0.0.1"], &client, &base).await;
    let forwarded = [
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-proto", "https"),
    ];
    let cookie = sign_in(&client, &base, &forwarded).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let plain = sign_in(&client, &base, &[]).await;
    assert!(!plain.contains("Secure"), "{plain}");
    let audit = as_admin(&client, &format!("{base}/api/v1/audit?actor=admin")).await;
    let addresses: Vec<&str> = audit["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["127.0.0.1", "203.0.113.7"]);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_claim_another_address() {
    let client = reqwest::Client::new();
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (_server, _db) = serve(port, &["--trusted-proxy", "10.9.9.9"], &client, &base).await;
    let cookie = sign_in(
        &client,
        &base,
        &[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    let audit = as_admin(&client, &format!("{base}/api/v1/audit?actor=admin")).await;
    assert_eq!(audit["value"][0]["address"], "127.0.0.1");
}
