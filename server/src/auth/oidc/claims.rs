//! What a verified ID token must say (OpenID Connect Core 3.1.3.7), and what Drydock takes
//! from it: the subject, a user name and the grants its roles claim maps to.

use crate::settings::OidcSettings;
use app::model::access::Grant;
use app::model::names::UserName;
use serde_json::{Map, Value};

/// Clocks disagree a little; a token is not refused over a minute.
const LEEWAY_SECONDS: i64 = 60;

/// Checks issuer, audience, authorized party, expiry, issue time and nonce.
pub fn check(
    claims: &Map<String, Value>,
    settings: &OidcSettings,
    nonce: &str,
    now_seconds: i64,
) -> Result<(), String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    if text("iss") != Some(settings.issuer.as_str()) {
        return Err(format!(
            "the ID token was issued by {:?}, not by {:?}",
            text("iss").unwrap_or("nobody"),
            settings.issuer
        ));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&settings.client_id.as_str()) {
        return Err("the ID token is not meant for this client (aud)".into());
    }
    if let Some(azp) = text("azp")
        && azp != settings.client_id
    {
        return Err("the ID token was issued to another client (azp)".into());
    }
    match number("exp") {
        Some(exp) if exp + LEEWAY_SECONDS > now_seconds => {}
        Some(_) => return Err("the ID token has expired".into()),
        None => return Err("the ID token has no expiry (exp)".into()),
    }
    if number("iat").is_none_or(|iat| iat > now_seconds + LEEWAY_SECONDS) {
        return Err("the ID token's issue time (iat) is missing or in the future".into());
    }
    if number("nbf").is_some_and(|nbf| nbf > now_seconds + LEEWAY_SECONDS) {
        return Err("the ID token is not valid yet (nbf)".into());
    }
    if text("nonce") != Some(nonce) {
        return Err("the ID token's nonce is not this sign-in's (a replayed token?)".into());
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err("the ID token names no subject (sub)".into());
    }
    Ok(())
}

/// A Drydock user name from the username claim: lower-cased, every run of characters a name
/// cannot hold (`.`, `@`, `_`, spaces) made one `-` (`Jane.Doe@example.com` →
/// `jane-doe-example-com`), at most 63 characters.
pub fn user_name(claims: &Map<String, Value>, claim: &str) -> Result<UserName, String> {
    let value = claims
        .get(claim)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the ID token has no {claim} claim to name the user by"))?;
    let mut name = String::new();
    for c in value.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(63).collect();
    UserName::parse(name.trim_end_matches('-'))
        .map_err(|_| format!("the {claim} claim {value:?} makes no user name"))
}

/// The grants the roles claim's values map to (a claim holding one string or a list).
pub fn grants(claims: &Map<String, Value>, settings: &OidcSettings) -> Vec<Grant> {
    let values: Vec<&str> = match claims.get(&settings.roles_claim) {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut grants: Vec<Grant> = Vec::new();
    for mapping in &settings.roles {
        if values.contains(&mapping.claim_value.as_str()) && !grants.contains(&mapping.grant) {
            grants.push(mapping.grant.clone());
        }
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RoleMapping;
    use app::model::access::Role;
    use serde_json::json;

    fn settings() -> OidcSettings {
        OidcSettings {
            issuer: "https://idp.example".into(),
            client_id: "drydock".into(),
            client_secret: None,
            redirect_url: None,
            display_name: "Example".into(),
            scopes: vec!["openid".into()],
            username_claim: "preferred_username".into(),
            roles_claim: "groups".into(),
            roles: vec![
                RoleMapping {
                    claim_value: "ops".into(),
                    grant: Grant::global(Role::Operator),
                },
                RoleMapping {
                    claim_value: "admins".into(),
                    grant: Grant::global(Role::Admin),
                },
            ],
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn good() -> Value {
        json!({"iss": "https://idp.example", "aud": "drydock", "sub": "s1", "exp": 2000,
               "iat": 1000, "nonce": "n1", "preferred_username": "Jane.Doe@Example.com",
               "groups": ["ops", "staff"]})
    }

    #[test]
    fn a_good_token_passes_and_each_broken_claim_is_named() {
        assert_eq!(check(&claims(good()), &settings(), "n1", 1500), Ok(()));
        let cases = [
            ("iss", json!("https://evil.example"), "issued by"),
            ("aud", json!(["someone-else"]), "aud"),
            ("azp", json!("someone-else"), "azp"),
            ("exp", json!(1000), "expired"),
            ("iat", json!(5000), "iat"),
            ("nbf", json!(5000), "nbf"),
            ("nonce", json!("n2"), "nonce"),
            ("sub", json!(""), "sub"),
        ];
        for (claim, value, says) in cases {
            let mut token = claims(good());
            token.insert(claim.into(), value);
            let error = check(&token, &settings(), "n1", 1500).unwrap_err();
            assert!(error.contains(says), "{claim}: {error}");
        }
    }

    #[test]
    fn names_and_roles_come_from_the_configured_claims() {
        let token = claims(good());
        assert_eq!(
            user_name(&token, "preferred_username").unwrap().as_str(),
            "jane-doe-example-com"
        );
        assert!(user_name(&token, "email").is_err());
        assert_eq!(
            grants(&token, &settings()),
            vec![Grant::global(Role::Operator)]
        );
        let mut one = claims(good());
        one.insert("groups".into(), json!("admins"));
        assert_eq!(grants(&one, &settings()), vec![Grant::global(Role::Admin)]);
        one.insert("groups".into(), json!(["nobody"]));
        assert!(grants(&one, &settings()).is_empty());
    }
}
