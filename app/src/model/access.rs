//! Who may do what. Three roles, each including the ones below it, granted on every fleet or on
//! one: `viewer` reads (never secrets), `operator` also creates, starts, stops and skips runs
//! and approves gates, `admin` also changes fleets, members, strategies, webhooks, users and
//! tokens. The server decides with [`Caller::require`]; the browser asks [`Caller::may`] to
//! hide or disable what would be refused, and says why with the same sentence.

use super::error::{AppError, ErrorKind};
use super::names::FleetName;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| format!("role {text:?} is not one of viewer, operator or admin"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role on one fleet, or on all of them (`fleet` absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grant {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetName>,
}

impl Grant {
    pub fn global(role: Role) -> Self {
        Self { role, fleet: None }
    }

    fn covers(&self, fleet: Option<&FleetName>) -> bool {
        match (&self.fleet, fleet) {
            (None, _) => true,
            (Some(granted), Some(asked)) => granted == asked,
            (Some(_), None) => false,
        }
    }
}

/// How the caller proved who they are; recorded with every change they make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Credential {
    /// No credential at all.
    Anonymous,
    /// A browser session begun with a password.
    Session,
    /// A browser session begun through an identity provider (single sign-on), by its issuer.
    SingleSignOn { issuer: String },
    /// An API token, by its id (never its secret).
    Token { id: String },
    /// HTTP Basic with a user's password.
    Password,
    /// `--auth none`: everyone on this machine is an admin.
    AuthDisabled,
    /// Drydock itself (the demo fleet, the benchmark).
    System,
}

/// The CSRF token of the request's session, which the server puts on the request so
/// server-rendered forms can carry it (`csrf_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// Who is asking, and what they were granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    pub name: String,
    pub credential: Credential,
    pub grants: Vec<Grant>,
}

impl Caller {
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".into(),
            credential: Credential::Anonymous,
            grants: Vec::new(),
        }
    }

    /// Drydock acting on its own behalf (never from a request).
    pub fn system() -> Self {
        Self {
            name: "drydock".into(),
            credential: Credential::System,
            grants: vec![Grant::global(Role::Admin)],
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.credential == Credential::Anonymous
    }

    /// The highest role the caller holds on `fleet` (`None`: on every fleet at once).
    pub fn role_on(&self, fleet: Option<&FleetName>) -> Option<Role> {
        self.grants
            .iter()
            .filter(|g| g.covers(fleet))
            .map(|g| g.role)
            .max()
    }

    /// Whether any grant lets the caller see `fleet` at all.
    pub fn sees(&self, fleet: &FleetName) -> bool {
        self.role_on(Some(fleet)).is_some()
    }

    pub fn may(&self, role: Role, fleet: Option<&FleetName>) -> bool {
        self.role_on(fleet).is_some_and(|held| held >= role)
    }

    /// Why the caller may not act with `role` on `fleet`, as the answer they get: 401 for no
    /// credential, 403 naming the role needed otherwise.
    pub fn require(&self, role: Role, fleet: Option<&FleetName>) -> Result<(), AppError> {
        if self.may(role, fleet) {
            return Ok(());
        }
        if self.is_anonymous() {
            return Err(unauthenticated());
        }
        Err(AppError::new(
            ErrorKind::Forbidden,
            "Forbidden",
            self.why_not(role, fleet),
        ))
    }

    /// The sentence a refused control shows.
    pub fn why_not(&self, role: Role, fleet: Option<&FleetName>) -> String {
        let scope = match fleet {
            Some(fleet) => format!("on fleet {fleet}"),
            None => "on every fleet".into(),
        };
        let held = match self.role_on(fleet) {
            Some(held) => format!("{} is {held} there", self.name),
            None => format!("{} has no role there", self.name),
        };
        format!("This needs the {role} role {scope}; {held}.")
    }
}

/// An API token as its owner sees it in the browser (never its secret, which is not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub owner: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetName>,
    pub description: String,
    /// `Active`, `Expired` or `Revoked`.
    pub state: String,
    pub created: super::time::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<super::time::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<super::time::Timestamp>,
}

/// A user as an admin sees them in the browser (never a password or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub name: String,
    pub roles: Vec<Grant>,
    /// Signs in with a password of Drydock's.
    pub password_set: bool,
    /// The identity provider of a user who signs in through single sign-on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    pub created: super::time::Timestamp,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}

/// The answer to a request without a usable credential.
pub fn unauthenticated() -> AppError {
    AppError::new(
        ErrorKind::Unauthenticated,
        "Unauthenticated",
        "Sign in, or send an API token (Authorization: Bearer …), to use Drydock.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(name: &str) -> FleetName {
        FleetName::parse(name).unwrap()
    }

    fn caller(grants: Vec<Grant>) -> Caller {
        Caller {
            name: "alice".into(),
            credential: Credential::Session,
            grants,
        }
    }

    #[test]
    fn a_higher_role_includes_the_lower_ones() {
        let admin = caller(vec![Grant::global(Role::Admin)]);
        for role in Role::ALL {
            assert!(admin.may(role, Some(&fleet("demo"))));
            assert!(admin.may(role, None));
        }
    }

    #[test]
    fn a_fleet_grant_reaches_that_fleet_only() {
        let alice = caller(vec![
            Grant::global(Role::Viewer),
            Grant {
                role: Role::Operator,
                fleet: Some(fleet("demo")),
            },
        ]);
        assert!(alice.may(Role::Operator, Some(&fleet("demo"))));
        assert!(!alice.may(Role::Operator, Some(&fleet("prod"))));
        assert!(alice.may(Role::Viewer, Some(&fleet("prod"))));
        assert!(!alice.may(Role::Operator, None), "not on every fleet");
        let refused = alice
            .require(Role::Operator, Some(&fleet("prod")))
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Forbidden);
        assert_eq!(
            refused.message,
            "This needs the operator role on fleet prod; alice is viewer there."
        );
    }

    #[test]
    fn nobody_is_told_to_sign_in_and_a_stranger_is_forbidden() {
        let anonymous = Caller::anonymous();
        let refused = anonymous.require(Role::Viewer, None).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Unauthenticated);
        let stranger = caller(vec![Grant {
            role: Role::Admin,
            fleet: Some(fleet("demo")),
        }]);
        assert!(!stranger.sees(&fleet("prod")));
        let refused = stranger
            .require(Role::Viewer, Some(&fleet("prod")))
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Forbidden);
        assert!(refused.message.contains("alice has no role there"));
    }

    #[test]
    fn roles_are_their_lower_case_names() {
        assert_eq!(
            serde_json::to_string(&Role::Operator).unwrap(),
            "\"operator\""
        );
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        assert!(Role::parse("Admin").is_err());
    }
}
