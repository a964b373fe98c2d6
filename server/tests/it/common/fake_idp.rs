//! A small OpenID Connect identity provider for tests: discovery, JWKS, an authorization
//! endpoint that signs the configured person in at once, and a token endpoint that checks the
//! client secret, the redirect URI and the PKCE verifier before it hands out an ES256-signed
//! ID token. A test can make it misbehave (`Tamper`) to see Drydock refuse.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "drydock";
pub const CLIENT_SECRET: &str = "fake-oidc-client-secret";

/// How the next ID token is spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    None,
    Expired,
    /// Signed with a key the provider does not publish, under a published key's id.
    ForeignKey,
    /// The payload changed after signing.
    EditedPayload,
    WrongAudience,
    WrongIssuer,
    WrongNonce,
}

struct Key {
    kid: String,
    pair: EcdsaKeyPair,
}

impl Key {
    fn new(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Self {
            kid: kid.into(),
            pair,
        }
    }

    fn jwk(&self) -> Value {
        let public = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
               "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
               "y": URL_SAFE_NO_PAD.encode(&public[33..65])})
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .pair
            .sign(&SystemRandom::new(), signed.as_bytes())
            .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

/// What the authorization endpoint was asked for, kept until the code is redeemed.
struct Issued {
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

pub struct Idp {
    key: Key,
    /// The person who signs in next: their claims besides the standard ones.
    pub person: Value,
    pub tamper: Tamper,
    codes: HashMap<String, Issued>,
    /// How many times the keys were fetched.
    pub key_fetches: usize,
    /// Token requests refused, with why.
    pub refusals: Vec<String>,
}

impl Idp {
    /// A new signing key under a new id, as a provider rotating its keys does.
    pub fn rotate_key(&mut self, kid: &str) {
        self.key = Key::new(kid);
    }
}

pub struct FakeIdp {
    pub issuer: String,
    pub idp: Arc<Mutex<Idp>>,
}

type Shared = (Arc<Mutex<Idp>>, String);

impl FakeIdp {
    pub async fn start(person: Value) -> Self {
        Self::start_on("127.0.0.1:0", person).await
    }

    /// The provider on `addr` (`127.0.0.1:0` for any free port).
    pub async fn start_on(addr: &str, person: Value) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let idp = Arc::new(Mutex::new(Idp {
            key: Key::new("key-1"),
            person,
            tamper: Tamper::None,
            codes: HashMap::new(),
            key_fetches: 0,
            refusals: Vec::new(),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state((idp.clone(), issuer.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { issuer, idp }
    }

    pub fn set_person(&self, person: Value) {
        self.idp.lock().unwrap().person = person;
    }

    pub fn set_tamper(&self, tamper: Tamper) {
        self.idp.lock().unwrap().tamper = tamper;
    }
}

async fn discovery(State((_, issuer)): State<Shared>) -> Response {
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"]
    }))
    .into_response()
}

async fn jwks(State((idp, _)): State<Shared>) -> Response {
    let mut idp = idp.lock().unwrap();
    idp.key_fetches += 1;
    axum::Json(json!({"keys": [idp.key.jwk()]})).into_response()
}

/// Signs the person in at once and sends the browser back with a code.
async fn authorize(
    State((idp, _)): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    if field("response_type") != "code"
        || field("client_id") != CLIENT_ID
        || field("code_challenge_method") != "S256"
        || !field("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", rand_suffix());
    let redirect_uri = field("redirect_uri");
    idp.lock().unwrap().codes.insert(
        code.clone(),
        Issued {
            nonce: field("nonce"),
            challenge: field("code_challenge"),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let location = format!("{redirect_uri}?code={code}&state={}", field("state"));
    (StatusCode::FOUND, [("location", location)]).into_response()
}

fn rand_suffix() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 12];
    SystemRandom::new().fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn refuse(idp: &mut Idp, why: &str) -> Response {
    idp.refusals.push(why.to_owned());
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": why})),
    )
        .into_response()
}

async fn token(State((idp, issuer)): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let mut idp = idp.lock().unwrap();
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return refuse(&mut idp, "client authentication failed");
    }
    if field("grant_type") != "authorization_code" {
        return refuse(&mut idp, "grant_type");
    }
    let Some(issued) = idp.codes.remove(&field("code")) else {
        return refuse(&mut idp, "unknown or used code");
    };
    let verifier = field("code_verifier");
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    if challenge != issued.challenge {
        return refuse(&mut idp, "PKCE verification failed");
    }
    if field("redirect_uri") != issued.redirect_uri {
        return refuse(&mut idp, "redirect_uri differs");
    }
    let id_token = id_token(&idp, &issuer, &issued.nonce);
    axum::Json(json!({"access_token": "opaque", "token_type": "Bearer", "id_token": id_token}))
        .into_response()
}

fn id_token(idp: &Idp, issuer: &str, nonce: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims = json!({"iss": issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                            "nonce": nonce});
    for (k, v) in idp.person.as_object().unwrap() {
        claims[k] = v.clone();
    }
    match idp.tamper {
        Tamper::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Tamper::WrongAudience => claims["aud"] = json!("another-app"),
        Tamper::WrongIssuer => claims["iss"] = json!("http://127.0.0.1:1"),
        Tamper::WrongNonce => claims["nonce"] = json!("a-nonce-from-another-sign-in"),
        _ => {}
    }
    match idp.tamper {
        Tamper::ForeignKey => Key::new("impostor").sign(&idp.key.kid, &claims),
        Tamper::EditedPayload => {
            let token = idp.key.sign(&idp.key.kid, &claims);
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            claims["preferred_username"] = json!("someone-else");
            parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
            parts.join(".")
        }
        _ => idp.key.sign(&idp.key.kid, &claims),
    }
}
