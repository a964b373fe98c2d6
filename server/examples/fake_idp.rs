//! The test suite's fake OpenID Connect identity provider as a process, for the browser tests:
//! everyone sent to it is signed in at once as Olive (`olive@example.com`, group
//! `fleet-viewers`), and the `drydock.toml` whose `[oidc]` points at it (with its client secret
//! in a file beside it) is written to `--dir`. Test tooling only: built with the tests, never
//! shipped.
//!
//! `cargo run -p server --example fake_idp -- --addr 127.0.0.1:3102 --dir target/e2e --drydock http://127.0.0.1:3100`

#[path = "../tests/it/common/fake_idp.rs"]
#[allow(dead_code)]
mod fake_idp;

use fake_idp::{CLIENT_ID, CLIENT_SECRET, FakeIdp};
use serde_json::json;

#[path = "support/args.rs"]
mod args;

use args::arg;

#[tokio::main]
async fn main() {
    let addr = arg("--addr", "127.0.0.1:3102");
    let dir = std::path::PathBuf::from(arg("--dir", "target/e2e"));
    let drydock = arg("--drydock", "http://127.0.0.1:3100");
    let person = json!({"sub": "e2e-olive", "preferred_username": "olive@example.com",
                        "name": "Olive", "groups": ["fleet-viewers"]});
    let idp = FakeIdp::start_on(&addr, person).await;
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("oidc-client-secret");
    std::fs::write(&secret, CLIENT_SECRET).unwrap();
    let config = format!(
        "[oidc]\nissuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = {{ file = \"{}\" }}\n\
         redirect_url = \"{drydock}/auth/oidc/callback\"\ndisplay_name = \"Fake IdP\"\n\n\
         [[oidc.roles]]\nclaim_value = \"fleet-viewers\"\nrole = \"viewer\"\n",
        idp.issuer,
        std::fs::canonicalize(&secret).unwrap().display()
    );
    // Written whole, then renamed: whoever waits for the file never reads half of it.
    let partial = dir.join("drydock.toml.partial");
    std::fs::write(&partial, config).unwrap();
    std::fs::rename(&partial, dir.join("drydock.toml")).unwrap();
    println!("fake identity provider at {}", idp.issuer);
    std::future::pending::<()>().await;
}
