//! What a write requires of the resource's current version: HTTP's `If-Match` and
//! `If-None-Match`, as ARM honours them. A stale etag must fail the write (412), never
//! silently overwrite what someone else changed.

use super::error::{AppError, ErrorKind};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No condition: create or replace.
    #[default]
    Unconditional,
    /// `If-None-Match: *`: create only.
    Absent,
    /// `If-Match: *`: replace only.
    Present,
    /// `If-Match: "3"` (or several): replace only a version with one of these etags.
    Etag(Vec<String>),
}

impl Precondition {
    /// From the request's `If-Match` and `If-None-Match` header values. Etags may be quoted,
    /// weak (`W/"3"`) or bare; only `*` is understood in `If-None-Match`.
    pub fn from_headers(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
    ) -> Result<Self, AppError> {
        match (if_match.map(str::trim), if_none_match.map(str::trim)) {
            (Some(_), Some(_)) => Err(AppError::invalid(
                "InvalidPrecondition",
                "Give If-Match or If-None-Match, not both.",
            )),
            (None, Some("*")) => Ok(Precondition::Absent),
            (None, Some(other)) => Err(AppError::invalid(
                "InvalidPrecondition",
                format!("If-None-Match takes only *, not {other:?}."),
            )),
            (Some("*"), None) => Ok(Precondition::Present),
            (Some(list), None) => Ok(Precondition::Etag(
                list.split(',')
                    .map(|tag| {
                        let tag = tag.trim();
                        let tag = tag.strip_prefix("W/").unwrap_or(tag);
                        tag.trim_matches('"').to_owned()
                    })
                    .filter(|tag| !tag.is_empty())
                    .collect(),
            )),
            (None, None) => Ok(Precondition::Unconditional),
        }
    }

    /// Checks the condition against the resource's current etag (`None`: it does not exist).
    /// `what` names the resource for the message, e.g. `update strategy s1`.
    pub fn check(&self, what: &str, current: Option<i64>) -> Result<(), AppError> {
        let failed = |message: String| {
            Err(AppError::new(
                ErrorKind::PreconditionFailed,
                "PreconditionFailed",
                message,
            ))
        };
        match (self, current) {
            (Precondition::Unconditional, _) | (Precondition::Absent, None) => Ok(()),
            (Precondition::Present, Some(_)) => Ok(()),
            (Precondition::Absent, Some(etag)) => {
                failed(format!("{what} already exists (etag {etag})."))
            }
            (Precondition::Present | Precondition::Etag(_), None) => {
                failed(format!("{what} does not exist."))
            }
            (Precondition::Etag(tags), Some(etag))
                if tags.iter().any(|t| *t == etag.to_string()) =>
            {
                Ok(())
            }
            (Precondition::Etag(tags), Some(etag)) => failed(format!(
                "{what} has changed: its etag is {etag}, not {}. Read it again and retry.",
                tags.join(" or ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(if_match: Option<&str>, if_none_match: Option<&str>) -> Precondition {
        Precondition::from_headers(if_match, if_none_match).unwrap()
    }

    #[test]
    fn headers_parse_as_arm_clients_send_them() {
        assert_eq!(parsed(None, None), Precondition::Unconditional);
        assert_eq!(parsed(None, Some("*")), Precondition::Absent);
        assert_eq!(parsed(Some("*"), None), Precondition::Present);
        assert_eq!(
            parsed(Some(r#""3", W/"4", 5"#), None),
            Precondition::Etag(vec!["3".into(), "4".into(), "5".into()])
        );
        assert!(Precondition::from_headers(Some("1"), Some("*")).is_err());
        assert!(Precondition::from_headers(None, Some("\"1\"")).is_err());
    }

    #[test]
    fn a_stale_etag_fails_with_412_and_a_current_one_passes() {
        let stale = parsed(Some("\"3\""), None).check("member a", Some(4));
        let error = stale.unwrap_err();
        assert_eq!(error.kind.http_status(), 412);
        assert!(
            error.message.contains("etag is 4, not 3"),
            "{}",
            error.message
        );
        assert!(parsed(Some("4"), None).check("member a", Some(4)).is_ok());
        assert!(parsed(Some("4"), None).check("member a", None).is_err());
        assert!(parsed(None, Some("*")).check("member a", Some(1)).is_err());
        assert!(parsed(None, Some("*")).check("member a", None).is_ok());
        assert!(parsed(Some("*"), None).check("member a", None).is_err());
    }
}
