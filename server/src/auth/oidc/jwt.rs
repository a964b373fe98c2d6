//! ID tokens: a JSON Web Token's signature checked against the identity provider's published
//! keys (JWKS), with ring doing the cryptography. Only asymmetric algorithms are accepted
//! (`none` and the HMAC ones never: the client secret is not a signing key here), and a key
//! is used only for the algorithm family of its type.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One key of a JWKS document, as published.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, rename = "use")]
    pub usage: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    // RSA
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    // EC
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Why a token was not taken. `UnknownKey` is the one worth fetching the keys again for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    Malformed(String),
    Algorithm(String),
    UnknownKey(Option<String>),
    BadSignature,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtError::Malformed(why) => write!(f, "the ID token is malformed: {why}"),
            JwtError::Algorithm(alg) => write!(f, "the ID token's algorithm {alg} is not accepted"),
            JwtError::UnknownKey(kid) => write!(
                f,
                "the ID token is signed with a key the provider does not publish ({})",
                kid.as_deref().unwrap_or("no key id")
            ),
            JwtError::BadSignature => write!(f, "the ID token's signature is not valid"),
        }
    }
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed(format!("{what} is not base64url")))
}

/// The token's claims when its signature verifies with one of `keys`; claims are not checked
/// here (see `claims.rs`).
pub fn verify(token: &str, keys: &JwkSet) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("not three dot-separated parts".into()));
    };
    let header: Header = serde_json::from_slice(&decode(head, "the header")?)
        .map_err(|e| JwtError::Malformed(format!("header: {e}")))?;
    let family = family(&header.alg)?;
    let signature = decode(sig, "the signature")?;
    let signed = &token.as_bytes()[..head.len() + 1 + body.len()];
    let candidates: Vec<&Jwk> = keys
        .keys
        .iter()
        .filter(|k| k.kty == family.kty())
        .filter(|k| k.usage.as_deref().is_none_or(|u| u == "sig"))
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == header.alg))
        .filter(|k| header.kid.is_none() || k.kid == header.kid)
        .collect();
    if candidates.is_empty() {
        return Err(JwtError::UnknownKey(header.kid));
    }
    let verified = candidates
        .iter()
        .any(|key| check_with(key, &header.alg, signed, &signature));
    if !verified {
        return Err(JwtError::BadSignature);
    }
    let claims: Value = serde_json::from_slice(&decode(body, "the payload")?)
        .map_err(|e| JwtError::Malformed(format!("payload: {e}")))?;
    match claims {
        Value::Object(map) => Ok(map),
        _ => Err(JwtError::Malformed(
            "the payload is not a JSON object".into(),
        )),
    }
}

#[derive(Clone, Copy)]
enum Family {
    Rsa,
    Ec,
}

impl Family {
    fn kty(self) -> &'static str {
        match self {
            Family::Rsa => "RSA",
            Family::Ec => "EC",
        }
    }
}

fn family(alg: &str) -> Result<Family, JwtError> {
    match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => Ok(Family::Rsa),
        "ES256" | "ES384" => Ok(Family::Ec),
        other => Err(JwtError::Algorithm(other.to_owned())),
    }
}

fn check_with(key: &Jwk, alg: &str, signed: &[u8], sig: &[u8]) -> bool {
    let field = |value: &Option<String>| {
        value
            .as_deref()
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
    };
    match key.kty.as_str() {
        "RSA" => {
            let (Some(n), Some(e)) = (field(&key.n), field(&key.e)) else {
                return false;
            };
            let params: &signature::RsaParameters = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return false,
            };
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(params, signed, sig)
                .is_ok()
        }
        "EC" => {
            let (Some(x), Some(y)) = (field(&key.x), field(&key.y)) else {
                return false;
            };
            let (algorithm, size): (&signature::EcdsaVerificationAlgorithm, usize) =
                match (alg, key.crv.as_deref()) {
                    ("ES256", Some("P-256")) => (&signature::ECDSA_P256_SHA256_FIXED, 32),
                    ("ES384", Some("P-384")) => (&signature::ECDSA_P384_SHA384_FIXED, 48),
                    _ => return false,
                };
            if x.len() != size || y.len() != size {
                return false;
            }
            // The uncompressed point: 0x04, x, y.
            let point: Vec<u8> = std::iter::once(4u8).chain(x).chain(y).collect();
            UnparsedPublicKey::new(algorithm, point)
                .verify(signed, sig)
                .is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn ec_key() -> (EcdsaKeyPair, Jwk) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some("k1".into()),
            usage: Some("sig".into()),
            alg: Some("ES256".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(b64(&public[1..33])),
            y: Some(b64(&public[33..65])),
        };
        (pair, jwk)
    }

    fn sign(pair: &EcdsaKeyPair, header: &str, claims: &str) -> String {
        let signed = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let sig = pair.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{signed}.{}", b64(sig.as_ref()))
    }

    #[test]
    fn a_token_verifies_only_with_its_own_key_and_untouched() {
        let (pair, jwk) = ec_key();
        let (_, other) = ec_key();
        let keys = JwkSet { keys: vec![jwk] };
        let token = sign(&pair, r#"{"alg":"ES256","kid":"k1"}"#, r#"{"sub":"u1"}"#);
        assert_eq!(verify(&token, &keys).unwrap()["sub"], "u1");

        let wrong_keys = JwkSet { keys: vec![other] };
        assert_eq!(verify(&token, &wrong_keys), Err(JwtError::BadSignature));

        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(br#"{"sub":"admin"}"#);
        parts[1] = &forged;
        assert_eq!(verify(&parts.join("."), &keys), Err(JwtError::BadSignature));
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused() {
        let (pair, jwk) = ec_key();
        let keys = JwkSet { keys: vec![jwk] };
        for alg in ["none", "HS256"] {
            let token = sign(&pair, &format!(r#"{{"alg":"{alg}"}}"#), "{}");
            assert_eq!(verify(&token, &keys), Err(JwtError::Algorithm(alg.into())));
        }
    }

    #[test]
    fn an_unknown_key_id_asks_for_the_keys_again() {
        let (pair, jwk) = ec_key();
        let keys = JwkSet { keys: vec![jwk] };
        let token = sign(&pair, r#"{"alg":"ES256","kid":"rotated"}"#, "{}");
        assert_eq!(
            verify(&token, &keys),
            Err(JwtError::UnknownKey(Some("rotated".into())))
        );
        assert!(matches!(verify("a.b", &keys), Err(JwtError::Malformed(_))));
    }

    #[test]
    fn rs256_tokens_verify_with_the_modulus_and_exponent() {
        // An RSA key made by openssl, as identity providers' usually are.
        let dir = crate::test_support::ScratchDir::new("jwt");
        let path = dir.join("rsa.der");
        let made = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .args(["-outform", "DER", "-out"])
            .arg(&path)
            .output()
            .expect("openssl runs (scripts/dev installs it)");
        assert!(made.status.success(), "{made:?}");
        // OpenSSL 3.0 writes RSA keys in DER as PKCS#1; later versions may write PKCS#8.
        let der = std::fs::read(&path).unwrap();
        let pair = ring::rsa::KeyPair::from_der(&der)
            .or_else(|_| ring::rsa::KeyPair::from_pkcs8(&der))
            .unwrap();
        let public: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
        let jwk = Jwk {
            kty: "RSA".into(),
            kid: None,
            usage: None,
            alg: None,
            n: Some(b64(&public.n)),
            e: Some(b64(&public.e)),
            crv: None,
            x: None,
            y: None,
        };
        let signed = format!("{}.{}", b64(br#"{"alg":"RS256"}"#), b64(br#"{"sub":"r"}"#));
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signed.as_bytes(),
            &mut sig,
        )
        .unwrap();
        let token = format!("{signed}.{}", b64(&sig));
        let keys = JwkSet { keys: vec![jwk] };
        assert_eq!(verify(&token, &keys).unwrap()["sub"], "r");
        let as_ps256 = token.replacen(&b64(br#"{"alg":"RS256"}"#), &b64(br#"{"alg":"PS256"}"#), 1);
        assert_eq!(verify(&as_ps256, &keys), Err(JwtError::BadSignature));
    }
}
